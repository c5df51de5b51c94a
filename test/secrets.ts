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
const LETTERS = UPPER + LOWER;
const BASE64URL = ALNUM + "-_";
// bech32, upper case: what age writes its secret keys in.
const BECH32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L";

function randomFrom(alphabet: string, length: number): string {
  return Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join("");
}

/** Shape checks (letters and digits, three classes) must not depend on the luck of the draw. */
function mixed(alphabet: string, length: number): string {
  const value = randomFrom(alphabet, length - 3);
  return value + randomFrom(UPPER, 1) + randomFrom(LOWER, 1) + randomFrom(DIGITS, 1);
}

const base64url = (value: string) => Buffer.from(value, "utf8").toString("base64url");
const hex = (length: number) => randomBytes(Math.ceil(length / 2)).toString("hex").slice(0, length);
const digits = (length: number) => randomFrom("123456789", 1) + randomFrom(DIGITS, length - 1);

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

// Shapes whose bodies are structured, not flat random runs: built the way the provider builds them.
const pypiToken = () => "pypi-" + Buffer.concat([Buffer.from([2, 1, 8]), Buffer.from("pypi.org"), randomBytes(140)]).toString("base64url");
const discordBotToken = () => `${base64url(digits(19))}.${randomFrom(BASE64URL, 6)}.${randomFrom(BASE64URL, 38)}`;
const grafanaCloudToken = () =>
  "glc_" + Buffer.from(JSON.stringify({ o: digits(6), n: `stack-${digits(6)}-deploy`, k: randomFrom(ALNUM, 24), m: { r: "prod-eu-west-2" } })).toString("base64");
const grafanaApiKey = () => Buffer.from(JSON.stringify({ k: randomFrom(ALNUM, 32), n: "deploy", id: 1 })).toString("base64");
const sentryOrgToken = () =>
  "sntrys_" + base64url(JSON.stringify({ iat: 1_700_000_000 + randomInt(1e6), url: "https://sentry.io", org: "acme" })) + "_" + randomBytes(32).toString("base64url");
const mapboxSecretToken = () => `sk.${base64url(JSON.stringify({ u: "acme", a: randomFrom(BASE64URL, 25) }))}.${randomFrom(BASE64URL, 22)}`;
const atlassianToken = () => `ATATT3xFfGF0${randomFrom(BASE64URL, 170)}=${hex(8).toUpperCase()}`;
const azureClientSecret = () => `${randomFrom(ALNUM, 3)}${randomFrom(DIGITS, 1)}Q~${randomFrom(ALNUM + "_~.-", 33)}${randomFrom(ALNUM, 1)}`;
const teamsWebhook = () =>
  `https://acme.webhook.office.com/webhookb2/${randomUUID()}@${randomUUID()}/IncomingWebhook/${hex(32)}/${randomUUID()}`;
// Starts with a letter: `12/…` right after the colon would read as a port and a path.
const urlPassword = (symbols: string) => randomFrom(LETTERS, 1) + mixed(ALNUM + symbols, 23);

/** Provider credentials, each in the kind of line it is usually pasted in. */
const providerSamples: SecretSample[] = [
  sample("github_token", "ghs_" + randomFrom(ALNUM, 36), (s) => `git remote set-url origin https://x-access-token:${s}@github.com/acme/api.git`),
  sample("github_token", "ghu_" + randomFrom(ALNUM, 36), (s) => `{"access_token": "${s}", "token_type": "bearer"}`),
  sample("gitlab_token", "glrt-" + randomFrom(BASE64URL, 20), (s) => `gitlab-runner register --token ${s}`),
  sample("slack_token", `xapp-1-A${randomFrom(UPPER + DIGITS, 10)}-${digits(13)}-${hex(64)}`, (s) => `SLACK_APP_TOKEN: ${s}`),
  sample("google_api_key", "AIza" + randomFrom(BASE64URL, 35), (s) => `const firebaseConfig = { apiKey: "${s}", projectId: "acme-prod" };`),
  sample(
    "google_api_key",
    "AIza" + randomFrom(BASE64URL, 35),
    (s) => `curl "https://maps.googleapis.com/maps/api/geocode/json?address=Berlin&key=${s}"`,
  ),
  sample(
    "google_oauth_secret",
    "GOCSPX-" + randomFrom(BASE64URL, 28),
    (s) => `{"web": {"client_id": "web.apps.googleusercontent.com", "client_secret": "${s}"}}`,
  ),
  sample(
    "google_oauth_token",
    "ya29.a0" + randomFrom(BASE64URL, 150),
    (s) => `curl -H "Authorization: Bearer ${s}" https://www.googleapis.com/drive/v3/files`,
  ),
  sample(
    "gcp_private_key_id",
    hex(40),
    (s) => `{"type": "service_account", "project_id": "acme-prod", "private_key_id": "${s}", "client_email": "ci@acme-prod.iam.gserviceaccount.com"}`,
  ),
  sample("npm_token", "npm_" + randomFrom(ALNUM, 36), (s) => `//registry.npmjs.org/:_authToken=${s}`),
  sample("npm_token", "npm_" + randomFrom(ALNUM, 36), (s) => `NPM_TOKEN=${s} npm publish --access public`),
  sample("pypi_token", pypiToken(), (s) => `[pypi]\nusername = __token__\npassword = ${s}`),
  sample("pypi_token", pypiToken(), (s) => `twine upload -u __token__ -p ${s} dist/*`),
  sample("huggingface_token", "hf_" + randomFrom(LETTERS, 34), (s) => `export HF_TOKEN=${s}`),
  sample("huggingface_token", "hf_" + randomFrom(LETTERS, 34), (s) => `huggingface-cli login --token ${s}`),
  sample("huggingface_token", "api_org_" + randomFrom(LETTERS, 34), (s) => `The org token ${s} can push to acme/models.`),
  sample("digitalocean_token", "dop_v1_" + hex(64), (s) => `doctl auth init --access-token ${s}`),
  sample("digitalocean_token", "doo_v1_" + hex(64), (s) => `DIGITALOCEAN_OAUTH=${s}`),
  sample("digitalocean_token", "dor_v1_" + hex(64), (s) => `refresh_token: ${s}`),
  sample("shopify_token", "shpat_" + hex(32), (s) => `curl -H "X-Shopify-Access-Token: ${s}" https://acme.myshopify.com/admin/api/2024-04/shop.json`),
  sample("shopify_token", "shpss_" + hex(32), (s) => `SHOPIFY_SHARED_SECRET=${s}`),
  sample("shopify_token", "shpca_" + hex(32), (s) => `custom app token ${s}`),
  sample("shopify_token", "shppa_" + hex(32), (s) => `private app password ${s}`),
  sample("mailgun_key", "key-" + hex(32), (s) => `curl -s --user 'api:${s}' https://api.mailgun.net/v3/mg.example.com/messages`),
  sample("mailgun_key", `${hex(32)}-${hex(8)}-${hex(8)}`, (s) => `MAILGUN_API_KEY=${s}`),
  sample("mailchimp_key", `${hex(32)}-us${randomInt(1, 21)}`, (s) => `mailchimp.setConfig({ apiKey: "${s}" });`),
  sample("twilio_key", "SK" + hex(32), (s) => `TWILIO_API_KEY=${s}`),
  sample("twilio_key", "SK" + hex(32), (s) => `curl -u ${s}:x https://api.twilio.com/2010-04-01/Accounts.json`),
  sample("sendgrid_key", `SG.${randomFrom(BASE64URL, 22)}.${randomFrom(BASE64URL, 43)}`, (s) => `SENDGRID_API_KEY='${s}'`),
  sample(
    "sendgrid_key",
    `SG.${randomFrom(BASE64URL, 22)}.${randomFrom(BASE64URL, 43)}`,
    (s) => `curl --request POST --header "Authorization: Bearer ${s}" https://api.sendgrid.com/v3/mail/send`,
  ),
  sample(
    "discord_webhook",
    `https://discord.com/api/webhooks/${digits(19)}/${randomFrom(BASE64URL, 68)}`,
    (s) => `Release notes are posted to ${s} by the CI job.`,
  ),
  sample("discord_token", discordBotToken(), (s) => `DISCORD_BOT_TOKEN=${s}`),
  sample("teams_webhook", teamsWebhook(), (s) => `alerts:\n  teams_url: ${s}`),
  sample(
    "telegram_bot_token",
    `${digits(10)}:AA${randomFrom(BASE64URL, 33)}`,
    (s) => `curl https://api.telegram.org/bot${s}/sendMessage -d chat_id=42`,
  ),
  sample("telegram_bot_token", `${digits(9)}:AA${randomFrom(BASE64URL, 33)}`, (s) => `telegram:\n  bot_token: "${s}"`),
  sample(
    "azure_key",
    randomBytes(64).toString("base64"),
    (s) => `DefaultEndpointsProtocol=https;AccountName=acmeprod;AccountKey=${s};EndpointSuffix=core.windows.net`,
  ),
  sample(
    "azure_key",
    randomBytes(32).toString("base64"),
    (s) => `Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=${s}`,
  ),
  sample(
    "azure_sas",
    encodeURIComponent(randomBytes(32).toString("base64")),
    (s) => `https://acme.blob.core.windows.net/exports/db.bak?sv=2022-11-02&sr=b&sp=r&se=2030-01-01T00:00:00Z&sig=${s}`,
  ),
  sample("azure_client_secret", azureClientSecret(), (s) => `AZURE_CLIENT_SECRET=${s}`),
  sample("square_token", "sq0atp-" + randomFrom(BASE64URL, 22), (s) => `SQUARE_ACCESS_TOKEN=${s}`),
  sample("square_token", "sq0csp-" + randomFrom(BASE64URL, 43), (s) => `square oauth secret ${s}`),
  sample("atlassian_token", atlassianToken(), (s) => `curl -u me@example.com:${s} https://acme.atlassian.net/rest/api/3/myself`),
  sample("linear_key", "lin_api_" + randomFrom(ALNUM, 40), (s) => `LINEAR_API_KEY=${s}`),
  sample("linear_key", "lin_oauth_" + hex(64), (s) => `linear oauth access ${s}`),
  sample("notion_token", `ntn_${digits(11)}${randomFrom(ALNUM, 35)}`, (s) => `const notion = new Client({ auth: "${s}" });`),
  sample("notion_token", "secret_" + mixed(ALNUM, 43), (s) => `NOTION_TOKEN=${s}`),
  sample("postman_key", `PMAK-${hex(24)}-${hex(34)}`, (s) => `postman collection run api.json --postman-api-key ${s}`),
  sample("vault_token", "hvs." + randomFrom(BASE64URL, 91), (s) => `export VAULT_TOKEN=${s}`),
  sample("vault_token", "hvb." + randomFrom(BASE64URL, 130), (s) => `X-Vault-Token: ${s}`),
  sample(
    "terraform_token",
    `${randomFrom(ALNUM, 14)}.atlasv1.${randomFrom(ALNUM, 67)}`,
    (s) => `credentials "app.terraform.io" {\n  token = "${s}"\n}`,
  ),
  sample("databricks_token", "dapi" + hex(32), (s) => `databricks configure --host https://adb-1234.azuredatabricks.net --token ${s}`),
  sample("databricks_token", `dapi${hex(32)}-2`, (s) => `DATABRICKS_TOKEN: ${s}`),
  sample("grafana_token", grafanaCloudToken(), (s) => `GRAFANA_CLOUD_TOKEN=${s}`),
  sample(
    "grafana_token",
    `glsa_${randomFrom(ALNUM, 32)}_${hex(8)}`,
    (s) => `curl -H "Authorization: Bearer ${s}" https://grafana.example.com/api/dashboards`,
  ),
  sample("grafana_token", grafanaApiKey(), (s) => `grafana api key ${s}`),
  sample("newrelic_key", "NRAK-" + randomFrom(UPPER + DIGITS, 27), (s) => `NEW_RELIC_API_KEY=${s}`),
  sample("newrelic_key", hex(36) + "NRAL", (s) => `license_key: ${s}`),
  sample("newrelic_key", "NRII-" + randomFrom(BASE64URL, 32), (s) => `insert key ${s} for the events API`),
  sample("sentry_token", sentryOrgToken(), (s) => `SENTRY_AUTH_TOKEN=${s}`),
  sample("sentry_token", "sntryu_" + hex(64), (s) => `sentry-cli --auth-token ${s} releases list`),
  sample("pulumi_token", "pul-" + hex(40), (s) => `PULUMI_ACCESS_TOKEN=${s}`),
  sample("docker_token", "dckr_pat_" + randomFrom(BASE64URL, 27), (s) => `echo ${s} | docker login -u acme --password-stdin`),
  sample(
    "docker_auth",
    Buffer.from("deploy:" + mixed(ALNUM, 24)).toString("base64"),
    (s) => `{"auths": {"https://index.docker.io/v1/": {"auth": "${s}"}}}`,
  ),
  sample("supabase_key", "sbp_" + hex(40), (s) => `supabase login --token ${s}`),
  sample("supabase_key", "sb_secret_" + randomFrom(BASE64URL, 31), (s) => `SUPABASE_SECRET_KEY=${s}`),
  sample("planetscale_token", "pscale_tkn_" + randomFrom(BASE64URL, 43), (s) => `PLANETSCALE_SERVICE_TOKEN=${s}`),
  sample(
    "planetscale_token",
    "pscale_pw_" + randomFrom(BASE64URL, 43),
    (s) => `DATABASE_URL=mysql://app:${s}@aws.connect.psdb.cloud/acme?sslaccept=strict`,
  ),
  sample("age_secret_key", "AGE-SECRET-KEY-1" + randomFrom(BECH32, 58), (s) => `# created: 2024-05-17T12:00:00Z\n${s}`),
  sample("figma_token", "figd_" + randomFrom(BASE64URL, 40), (s) => `curl -H "X-Figma-Token: ${s}" https://api.figma.com/v1/me`),
  sample("replicate_token", "r8_" + randomFrom(ALNUM, 37), (s) => `export REPLICATE_API_TOKEN=${s}`),
  sample("groq_key", "gsk_" + randomFrom(ALNUM, 52), (s) => `client = Groq(api_key="${s}")`),
  sample("xai_key", "xai-" + randomFrom(ALNUM, 80), (s) => `XAI_API_KEY=${s}`),
  sample("perplexity_key", "pplx-" + randomFrom(ALNUM, 48), (s) => `curl https://api.perplexity.ai/chat/completions -H "Authorization: Bearer ${s}"`),
  sample("openrouter_key", "sk-or-v1-" + hex(64), (s) => `OPENROUTER_API_KEY=${s}`),
  sample("langsmith_key", `lsv2_pt_${hex(32)}_${hex(10)}`, (s) => `LANGSMITH_API_KEY=${s}`),
  sample("rubygems_key", "rubygems_" + hex(48), (s) => `---\n:rubygems_api_key: ${s}`),
  sample("clojars_token", "CLOJARS_" + randomFrom(LOWER + DIGITS, 60), (s) => `:password "${s}"`),
  sample("jfrog_token", "AKCp" + randomFrom(ALNUM, 69), (s) => `curl -H "X-JFrog-Art-Api: ${s}" https://acme.jfrog.io/artifactory/api/repositories`),
  sample("sourcegraph_token", `sgp_${hex(16)}_${hex(40)}`, (s) => `SRC_ACCESS_TOKEN=${s} src search 'repo:acme'`),
  sample("buildkite_token", "bkua_" + hex(40), (s) => `BUILDKITE_API_TOKEN=${s}`),
  sample("circleci_token", `CCIPAT_${randomFrom(ALNUM, 22)}_${hex(40)}`, (s) => `circleci setup --token ${s}`),
  sample("heroku_key", "HRKU-AA" + randomFrom(BASE64URL, 58), (s) => `HEROKU_API_KEY=${s} heroku apps`),
  sample("doppler_token", "dp.pt." + randomFrom(ALNUM, 43), (s) => `doppler configure set token ${s}`),
  sample("airtable_token", `pat${randomFrom(ALNUM, 14)}.${hex(64)}`, (s) => `const base = new Airtable({ apiKey: "${s}" }).base("app123");`),
  sample("contentful_token", "CFPAT-" + randomFrom(BASE64URL, 43), (s) => `contentful login --management-token ${s}`),
  sample("prefect_key", "pnu_" + randomFrom(ALNUM, 36), (s) => `prefect cloud login --key ${s}`),
  sample("alibaba_key", "LTAI" + randomFrom(ALNUM, 20), (s) => `aliyun configure set --access-key-id ${s} --region cn-hangzhou`),
  sample(
    "dropbox_token",
    "sl.B" + randomFrom(BASE64URL, 139),
    (s) => `curl -X POST https://api.dropboxapi.com/2/users/get_current_account --header "Authorization: Bearer ${s}"`,
  ),
  sample("mapbox_token", mapboxSecretToken(), (s) => `MAPBOX_DOWNLOADS_TOKEN=${s}`),
  sample("netrc_password", genericValue(), (s) => `machine api.example.com\n  login deploy\n  password ${s}`),
];

/** The password of scheme://user:password@host, with the characters people paste unencoded. (enclave-scan: allow) */
const urlPasswordSamples: SecretSample[] = [
  sample(
    "connection_string_password",
    urlPassword("/+="),
    (s) => `MONGO_URL=mongodb+srv://app.user-1:${s}@cluster0.ab1cd.mongodb.net/prod?retryWrites=true&w=majority`,
  ),
  sample(
    "connection_string_password",
    `${urlPassword("")}%40${urlPassword("")}`,
    (s) => `postgresql://svc_reporting:${s}@db.example.com:5432/app?sslmode=require`,
  ),
  sample(
    "connection_string_password",
    urlPassword("/=#?"),
    (s) => `{"datasource": {"url": "mysql://root:${s}@10.0.0.5:3306/app", "owner": "ops@example.com"}}`,
  ),
  sample(
    "connection_string_password",
    urlPassword("!*-_"),
    (s) => `cache:\n  url: "redis://default:${s}@redis-12345.c1.eu-west-1.cloud.example.com:12345"`,
  ),
  sample("connection_string_password", urlPassword("+/"), (s) => `psql 'postgres://first.last:${s}@localhost/acme' -c 'select 1'`),
  sample(
    "connection_string_password",
    urlPassword("/"),
    (s) => `The replica is at mongodb://backup:${s}@mongo-0.internal,mongo-1.internal:27017/admin?replicaSet=rs0, ask ops.`,
  ),
];

export const secretSamples: SecretSample[] = [
  sample("aws_access_key_id", "AKIA" + randomFrom(UPPER + DIGITS, 16), (s) => `[default]\naws_access_key_id = ${s}\nregion = eu-west-1`),
  sample("aws_access_key_id", "ASIA" + randomFrom(UPPER + DIGITS, 16), (s) => `The CI role handed out ${s} for this run.`),
  sample("aws_secret_access_key", randomFrom(ALNUM + "+/", 40), (s) => `aws_secret_access_key = ${s}`),
  sample("aws_secret_access_key", randomFrom(ALNUM + "+/", 40), (s) => `{"AccessKeyId": "AKIA", "SecretAccessKey": "${s}"}`),
  sample("github_token", "ghp_" + randomFrom(ALNUM, 36), (s) => `export GITHUB_TOKEN=${s}`),
  sample("github_token", "gho_" + randomFrom(ALNUM, 36), (s) => `The OAuth app returned ${s} after the redirect.`),
  sample(
    "github_token",
    `github_pat_11${randomFrom(ALNUM, 20)}_${randomFrom(ALNUM, 59)}`,
    (s) => `Use the fine-grained token ${s} for the release job.`,
  ),
  sample(
    "gitlab_token",
    "glpat-" + randomFrom(BASE64URL, 20),
    (s) => `curl --header "PRIVATE-TOKEN: ${s}" https://gitlab.example.com/api/v4/projects`,
  ),
  sample("openai_key", "sk-proj-" + mixed(BASE64URL, 156), (s) => `OPENAI_API_KEY=${s}`),
  sample("openai_key", "sk-" + mixed(ALNUM, 48), (s) => `openai.api_key = "${s}"`),
  sample("anthropic_key", "sk-ant-api03-" + mixed(BASE64URL, 93) + "AA", (s) => `const client = new Anthropic({ apiKey: "${s}" });`),
  sample("stripe_key", "sk_live_" + mixed(ALNUM, 24), (s) => `Stripe secret for prod is ${s}, rotate quarterly.`),
  sample("stripe_key", "rk_test_" + mixed(ALNUM, 24), (s) => `STRIPE_RESTRICTED_KEY="${s}"`),
  sample("stripe_key", "whsec_" + mixed(ALNUM, 32), (s) => `webhook signing secret: ${s}`),
  sample("razorpay_key", "rzp_live_" + mixed(ALNUM, 14), (s) => `key_id: ${s}`),
  sample("razorpay_key", mixed(ALNUM, 24), (s) => `RAZORPAY_KEY_SECRET=${s}`),
  sample(
    "slack_token",
    `xoxb-${randomFrom(DIGITS, 12)}-${randomFrom(DIGITS, 13)}-${mixed(ALNUM, 24)}`,
    (s) => `slack bot token ${s} posts to #deploys`,
  ),
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
  sample("enclave_token", "enc_ss_" + enclaveBody(), (s) => `Cookie: enclave_session=${s}; Path=/`),
  sample("generic_secret", genericValue(), (s) => `DB_PASSWORD=${s}`),
  sample("generic_secret", genericValue(), (s) => `{"client_id": "web", "client_secret": "${s}"}`),
  sample("generic_secret", genericValue(), (s) => `api_key: ${s}`),
  sample("generic_secret", genericValue(), (s) => `token="${s}"`),
  sample("generic_secret", genericValue(), (s) => `passwd: ${s}`),
  sample("generic_secret", genericValue(), (s) => `auth_token = '${s}'`),
  sample("generic_secret", genericValue(), (s) => `SECRET_KEY = "${s}"`),
  ...providerSamples,
  ...urlPasswordSamples,
];

/** Caught only at strict: long random runs with no recognisable prefix. */
export const strictSamples: SecretSample[] = [
  sample("high_entropy", mixed(ALNUM + "+/", 48), (s) => `Backup cipher blob ${s} (do not edit).`),
  sample("high_entropy", randomBytes(600).toString("base64"), (s) => `![logo](data:image/png;base64,${s})`),
];

const publicKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }) as string;

/** An OpenSSH public key line: length-prefixed "ssh-ed25519" and the 32 key bytes, base64. */
function sshPublicKey(): string {
  const raw = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" }).subarray(-32);
  const field = (bytes: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, bytes.length]), bytes]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")} deploy@ci`;
}

const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const pngDataUrl = (size: number) => `data:image/png;base64,${Buffer.concat([PNG_MAGIC, randomBytes(size)]).toString("base64")}`;

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
  // Identifiers, hashes and digests: random, but not secret.
  `"trace_id": "${randomUUID()}", "span_id": "${hex(16)}"`,
  `git checkout ${hex(40)}`,
  `tree ${hex(64)} (sha256 repository)`,
  `docker pull ghcr.io/acme/api@sha256:${hex(64)}`,
  `md5 ${hex(32)}  backup.tar.gz`,
  `"integrity": "sha512-${randomBytes(64).toString("base64")}"`,
  `![chart](${pngDataUrl(600)})`,
  `<img src="${pngDataUrl(300)}" alt="logo">`,
  `JWT header only: ${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}`,
  // Public keys and public identifiers that sit next to secrets.
  sshPublicKey(),
  `# public key: age1${randomFrom(BECH32.toLowerCase(), 58)}`,
  `mailgun validation key pubkey-${hex(32)}`,
  `TWILIO_ACCOUNT_SID=AC${hex(32)}`,
  `SENTRY_DSN=https://${hex(32)}@o${digits(6)}.ingest.sentry.io/${digits(7)}`,
  `GOOGLE_CLIENT_ID=${digits(12)}-${randomFrom(LOWER + DIGITS, 32)}.apps.googleusercontent.com`,
  `The map loads with the public token pk.${base64url(JSON.stringify({ u: "acme", a: randomFrom(BASE64URL, 25) }))}.${randomFrom(BASE64URL, 22)} in the browser.`,
  `SUPABASE_PUBLISHABLE_KEY=sb_publishable_${randomFrom(BASE64URL, 31)}`,
  // Random bytes but never a `:`, so it cannot decode to user:password by chance (by estimate about 1 run in 300 did).
  `{"auth": "${Buffer.from(randomBytes(24).map((byte) => (byte === 0x3a ? 0x3b : byte))).toString("base64")}"}`,
  // Prose and code that talk about secrets without holding one.
  "Rotate the Stripe key, the GitHub token and the npm token before Friday.",
  "Never paste an API key, access token or password into chat; use the vault.",
  "Fine-grained tokens start with github_pat_ and classic ones with ghp_.",
  "Set password: on first login you will be asked to choose one.",
  "const apiKey = process.env.GOOGLE_API_KEY;",
  'api_key = os.environ["OPENAI_API_KEY"]',
  "OPENAI_API_KEY=sk-...",
  "HF_TOKEN=<your token here>",
  "NODE_AUTH_TOKEN: ${{ secrets.NPM_TOKEN }}",
  "//registry.npmjs.org/:_authToken=${NPM_TOKEN}",
  "DefaultEndpointsProtocol=https;AccountName=devstore;AccountKey=<key>;",
  '"private_key_id": null',
  "docker login -u acme --password-stdin < token.txt",
  "kubectl get secret db-password -o yaml",
  "pip install scikit-learn  # imported as sklearn, nicknamed sk-learn",
  "key-value stores such as Redis; a hotkey-config file; monkey-patching",
  "npm_config_cache=/home/ci/.npm npm_package_version=1.2.3",
  'from huggingface_hub import hf_hub_download\nhf_hub_download(repo_id="bert-base-uncased", filename="config.json")',
  "Rails signs cookies with secret_key_base.",
  "SG.1 and SG.2 are security groups; dop_v1_ tokens expire after 90 days.",
  "The dapi prefix marks Databricks tokens and pscale_tkn_ PlanetScale ones.",
  `Cache key-${hex(16)} was evicted.`,
  // URLs with `@` or `:` that are not userinfo, addresses, versions, dates.
  "https://medium.com/@acme/how-we-ship-1a2b3c",
  "https://www.npmjs.com/package/@acme/sdk",
  "https://unpkg.com/@babel/standalone@7.24.0/babel.min.js",
  "http://localhost:3000/users/@bob",
  "https://registry.example.com:5000/v2/@acme/api/manifests/latest",
  "https://www.google.com/maps/@51.5072,-0.1276,12z",
  "git+ssh://git@github.com/acme/api.git",
  "Write to first.last+billing@example.co.uk or <ops@example.com>.",
  "Upgraded next from 16.3.1 to 16.4.6 on node@20.11.1 (see v2.0.0-rc.1+build.5).",
  "Deployed at 2024-05-17T12:34:56.789Z (epoch 1715949296), ratio 16:9, at 12:30:45.",
  "arn:aws:iam::123456789012:role/deploy",
  `chat ${digits(10)}:-100 replied`,
];

type Redact = (text: string) => { text: string };
export type KindScore = { kind: string; samples: number; detected: number };
export type CorpusScore = {
  kinds: KindScore[];
  samples: number;
  detected: number;
  nearMisses: number;
  falsePositives: number;
  missed: SecretSample[];
  changed: string[];
};

/**
 * The one definition of the corpus rates (used by the corpus test and
 * scripts/redaction-corpus.ts): a sample is detected when its raw secret is gone and its own
 * kind's marker is there; a near miss is a false positive when redaction changes it at all.
 */
export function scoreCorpus(redact: Redact, samples: SecretSample[] = secretSamples, kept: string[] = nearMisses): CorpusScore {
  const kinds = new Map<string, KindScore>();
  const missed: SecretSample[] = [];
  for (const sample of samples) {
    const score = kinds.get(sample.kind) ?? { kind: sample.kind, samples: 0, detected: 0 };
    kinds.set(sample.kind, score);
    score.samples++;
    const { text } = redact(sample.text);
    if (!text.includes(sample.secret) && text.includes(`[REDACTED:${sample.kind}]`)) score.detected++;
    else missed.push(sample);
  }
  const changed = kept.filter((text) => redact(text).text !== text);
  return {
    kinds: [...kinds.values()].sort((a, b) => a.kind.localeCompare(b.kind)),
    samples: samples.length,
    detected: samples.length - missed.length,
    nearMisses: kept.length,
    falsePositives: changed.length,
    missed,
    changed,
  };
}
