import { createHmac, generateKeyPairSync, randomBytes, randomInt, randomUUID } from "node:crypto";

/**
 * Fake secrets for redaction tests, generated at import time from random bytes so no secret
 * is committed (and secret scanners have nothing to flag). Each sample embeds `secret` in a
 * realistic line; after redaction the raw `secret` must appear nowhere: not in API responses,
 * not in the stored database bytes.
 */
export type SecretSample = { kind: string; secret: string; text: string };

const UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const LOWER = "abcdefghijklmnopqrstuvwxyz";
const DIGITS = "0123456789";
const ALNUM = UPPER + LOWER + DIGITS;
const BASE64URL = ALNUM + "-_";

function randomFrom(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** Shape checks (letters and digits, three classes) must not depend on the luck of the draw. */
function mixed(alphabet: string, length: number): string {
  const value = randomFrom(alphabet, length - 3);
  return value + randomFrom(UPPER, 1) + randomFrom(LOWER, 1) + randomFrom(DIGITS, 1);
}

const base64url = (value: string) => Buffer.from(value, "utf8").toString("base64url");

function fakeJwt(): string {
  const header = base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = base64url(JSON.stringify({ sub: randomUUID(), iat: Math.floor(Date.now() / 1000), scope: "read" }));
  const signature = createHmac("sha256", randomBytes(32)).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}

function pem(label: string, der: Buffer, width: number): string {
  const lines = der.toString("base64").match(new RegExp(`.{1,${width}}`, "g")) ?? [];
  return [`-----BEGIN ${label}-----`, ...lines, `-----END ${label}-----`].join("\n");
}

function privateKeys(): string[] {
  const rsa = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const ec = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const ed25519 = generateKeyPairSync("ed25519");
  const pkcs8 = { type: "pkcs8", format: "pem" } as const;
  // Not a parseable OpenSSH key, only its shape: the magic header followed by random bytes.
  const openssh = Buffer.concat([Buffer.from("openssh-key-v1\0", "latin1"), randomBytes(380)]);
  return [
    rsa.privateKey.export(pkcs8) as string,
    rsa.privateKey.export({ type: "pkcs1", format: "pem" }) as string,
    ec.privateKey.export({ type: "sec1", format: "pem" }) as string,
    ec.privateKey.export({ ...pkcs8, cipher: "aes-256-cbc", passphrase: randomBytes(16).toString("hex") }) as string,
    ed25519.privateKey.export(pkcs8) as string,
    pem("OPENSSH PRIVATE KEY", openssh, 70),
  ].map((block) => block.trim());
}

// Starts alphanumeric: a leading `$` or `%` would read as a variable reference, which is kept.
const genericValue = () => randomFrom(ALNUM, 1) + mixed(ALNUM + "!#$%*+-.=?@^_~", 23);
const connectionPassword = () => mixed(ALNUM + "!$*-_~", 20);
const enclaveBody = () => randomBytes(32).toString("base64url") + randomFrom(ALNUM, 6);

function sample(kind: string, secret: string, text: (secret: string) => string): SecretSample {
  return { kind, secret, text: text(secret) };
}

export const secretSamples: SecretSample[] = [
  sample("aws_access_key_id", "AKIA" + randomFrom(UPPER + DIGITS, 16), (s) => `[default]\naws_access_key_id = ${s}\nregion = eu-west-1`),
  sample("aws_access_key_id", "ASIA" + randomFrom(UPPER + DIGITS, 16), (s) => `The CI role handed out ${s} for this run.`),
  sample("aws_secret_access_key", randomFrom(ALNUM + "+/", 40), (s) => `aws_secret_access_key = ${s}`),
  sample("aws_secret_access_key", randomFrom(ALNUM + "+/", 40), (s) => `{"AccessKeyId": "AKIA", "SecretAccessKey": "${s}"}`),
  sample("github_token", "ghp_" + randomFrom(ALNUM, 36), (s) => `export GITHUB_TOKEN=${s}`),
  sample("github_token", "gho_" + randomFrom(ALNUM, 36), (s) => `The OAuth app returned ${s} after the redirect.`),
  sample("github_token", "github_pat_11" + randomFrom(ALNUM + "_", 80), (s) => `Use the fine-grained token ${s} for the release job.`),
  sample("gitlab_token", "glpat-" + randomFrom(BASE64URL, 20), (s) => `curl --header "PRIVATE-TOKEN: ${s}" https://gitlab.example.com/api/v4/projects`),
  sample("openai_key", "sk-proj-" + mixed(BASE64URL, 156), (s) => `OPENAI_API_KEY=${s}`),
  sample("openai_key", "sk-" + mixed(ALNUM, 48), (s) => `openai.api_key = "${s}"`),
  sample("anthropic_key", "sk-ant-api03-" + mixed(BASE64URL, 93) + "AA", (s) => `const client = new Anthropic({ apiKey: "${s}" });`),
  sample("stripe_key", "sk_live_" + mixed(ALNUM, 24), (s) => `Stripe secret for prod is ${s}, rotate quarterly.`),
  sample("stripe_key", "rk_test_" + mixed(ALNUM, 24), (s) => `STRIPE_RESTRICTED_KEY="${s}"`),
  sample("stripe_key", "whsec_" + mixed(ALNUM, 32), (s) => `webhook signing secret: ${s}`),
  sample("razorpay_key", "rzp_live_" + mixed(ALNUM, 14), (s) => `key_id: ${s}`),
  sample("razorpay_key", mixed(ALNUM, 24), (s) => `RAZORPAY_KEY_SECRET=${s}`),
  sample("slack_token", `xoxb-${randomFrom(DIGITS, 12)}-${randomFrom(DIGITS, 13)}-${mixed(ALNUM, 24)}`, (s) => `slack bot token ${s} posts to #deploys`),
  sample(
    "slack_token",
    `https://hooks.slack.com/services/T${randomFrom(UPPER + DIGITS, 8)}/B${randomFrom(UPPER + DIGITS, 10)}/${mixed(ALNUM, 24)}`,
    (s) => `Alerts go to ${s} via curl.`,
  ),
  ...privateKeys().map((key) => sample("private_key", key, (s) => `Here is the deploy key:\n\n${s}\n\nDo not share it.`)),
  sample("jwt", fakeJwt(), (s) => `Authorization: Bearer ${s}`),
  sample("jwt", fakeJwt(), (s) => `The session cookie was id_token=${s}; Path=/; HttpOnly`),
  sample("connection_string_password", connectionPassword(), (s) => `DATABASE_URL=postgres://app:${s}@db.internal:5432/app`),
  sample("connection_string_password", connectionPassword(), (s) => `mongodb+srv://reporting:${s}@cluster0.example.net/analytics?retryWrites=true`),
  sample("connection_string_password", connectionPassword(), (s) => `cache: rediss://:${s}@cache.internal:6380/0`),
  sample("connection_string_password", `p@ss#${connectionPassword()}`, (s) => `amqp://worker:${s}@mq.internal/jobs`),
  sample("enclave_token", "enc_" + enclaveBody(), (s) => `curl -H "Authorization: Bearer ${s}" https://enclave.example.com/api/v1/sync`),
  sample("enclave_token", "enc_at_" + enclaveBody(), (s) => `MCP client stored access token ${s} in its keychain.`),
  sample("enclave_token", "enc_rt_" + enclaveBody(), (s) => `refresh with ${s}`),
  sample("generic_secret", genericValue(), (s) => `DB_PASSWORD=${s}`),
  sample("generic_secret", genericValue(), (s) => `{"client_id": "web", "client_secret": "${s}"}`),
  sample("generic_secret", genericValue(), (s) => `api_key: ${s}`),
  sample("generic_secret", genericValue(), (s) => `token="${s}"`),
  sample("generic_secret", genericValue(), (s) => `passwd: ${s}`),
  sample("generic_secret", genericValue(), (s) => `auth_token = '${s}'`),
  sample("generic_secret", genericValue(), (s) => `SECRET_KEY = "${s}"`),
];

/** Caught only at strict: long random runs with no recognisable prefix. */
export const strictSamples: SecretSample[] = [
  sample("high_entropy", mixed(ALNUM + "+/", 48), (s) => `Backup cipher blob ${s} (do not edit).`),
  sample("high_entropy", randomBytes(600).toString("base64"), (s) => `![logo](data:image/png;base64,${s})`),
];

const publicKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }) as string;

/** Text that looks a little like a secret and must be kept as it is at standard. */
export const nearMisses: string[] = [
  "Rotate every token and password quarterly; secrets belong in the vault, not in chat.",
  "# Deploy\n\n1. Run `npm test`.\n2. Push **main**.\n\n| env | url |\n|---|---|\n| prod | https://example.com |",
  "password: changeme",
  "password = short1",
  "password: ********",
  "password: ${DB_PASSWORD}",
  "const password = process.env.DB_PASSWORD;",
  "Enter your password: ",
  "function login(user: User, token: string) {}",
  "max_tokens: 4096",
  "token_type: Bearer",
  "Put it in the token field and press save.",
  "We use sk-learn for the baseline model.",
  "sk-learn-is-a-great-library-for-ml",
  "The task-force met on Tuesday.",
  "AKIA",
  "AKIA" + randomFrom(UPPER, 8),
  "ghp_short",
  "eyJ",
  `eyJ${randomFrom(ALNUM, 20)}`,
  "postgres://localhost/db",
  "postgres://user@host/db",
  "https://example.com/a:b@c",
  "http://localhost:3000/health",
  "ssh://git@github.com/acme/api.git",
  "mail me at ops@example.com",
  `commit ${randomBytes(20).toString("hex")}`,
  `request id ${randomUUID()}`,
  `enc_${randomBytes(16).toString("base64url")}`,
  `enc_${randomBytes(32).toString("base64url")}`,
  "xoxb-123",
  "rzp_test",
  publicKey.trim(),
];
