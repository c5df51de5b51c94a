import { credentialsSchema, createUser, findUserByEmail, emailSchema } from "../auth/users";
import { ConfigError } from "../config";
import { MasterKeyError } from "../crypto/keys";
import { closeStore, getControlDb, getStore } from "../db/store";
import { storageFault } from "../db/storage-health";
import { auditSigner, publicKeyPem } from "../audit/checkpoint";
import { HttpError } from "../http/errors";
import { CLI_ACTOR, CliUsageError, options, parse } from "./args";
import { EVIDENCE_USAGE, runAuditEvidence } from "./evidence-command";
import { AUDIT_VERIFY_USAGE, runAuditVerify } from "./audit-verify-command";
import { readNewPassword } from "./password";
import { passwordSchema } from "../auth/password";
import { JOB_USAGE, runJobCommand } from "./job-commands";
import { runTokenCommand, TOKEN_USAGE } from "./token-commands";
import { ACCOUNT_USAGE, runAccountCommand } from "./account-commands";
import { runScanCommand, SCAN_USAGE } from "./scan-command";
import { KEY_USAGE } from "./key-usage";
import { RotationError } from "../backup/rotation-journal";
import { LeaseHeldError } from "../db/lease";
import { BACKUP_USAGE, runBackupCommand } from "./backup-commands";
import { OPERATOR_USAGE, runOperatorCommand } from "./operator-commands";
import { ACCESS_REQUEST_USAGE } from "./access-request-usage";
import { createWorkspace, listAllWorkspaces, workspaceNameSchema } from "../workspace/workspaces";

const USAGE = `usage:
  enclave user create --email E [--password-stdin]   (asks for the password, or reads it from stdin)
  enclave user reset-password --email E [--password-stdin]
                                                 (a new password, asked or from stdin; every session of the account ends)
  enclave workspace create --owner E --name N     (prints the workspace id last)
  enclave workspace list
  enclave workspace invite --workspace W --email E --role viewer|member|admin
                                                 (prints the invitation id, then the link last unless it was mailed)
  enclave workspace export --workspace ID --out FILE
                                                 (a ZIP of its data and audit trail; FILE must not exist)
  enclave workspace import --file FILE --owner E [--name N] [--workspace ID]
                                                 (into a new workspace, redacted as any write is; --workspace
                                                  picks one of several in an account export; prints the id last)
${AUDIT_VERIFY_USAGE}
  enclave audit public-key                       (the key checkpoints are signed with: PEM and key id)
${EVIDENCE_USAGE}
${TOKEN_USAGE}
${ACCOUNT_USAGE}
${JOB_USAGE}
${SCAN_USAGE}
${KEY_USAGE}
${BACKUP_USAGE}
${OPERATOR_USAGE}
${ACCESS_REQUEST_USAGE}`;

function refusePasswordFlag(args: string[]): string[] {
  if (args.some((arg) => arg === "--password" || arg.startsWith("--password="))) {
    throw new CliUsageError("--password would put the password in ps and the shell's history: use --password-stdin, or answer the prompt");
  }
  return args;
}

async function run(argv: string[]): Promise<void> {
  const [noun, verb, ...rest] = argv;
  const command = `${noun ?? ""} ${verb ?? ""}`;
  if (command === "user create") {
    const { values, flags } = options(refusePasswordFlag(rest), ["email"], 0, ["password-stdin"]);
    const email = parse(emailSchema, values.email, "--email");
    const credentials = parse(credentialsSchema, { email, password: await readNewPassword(flags["password-stdin"] ?? false) }, "password");
    await getControlDb();
    const user = await createUser(credentials, CLI_ACTOR);
    console.log(`created user ${user.email}`);
    console.log(user.id);
  } else if (command === "user reset-password") {
    const { values, flags } = options(refusePasswordFlag(rest), ["email"], 0, ["password-stdin"]);
    const email = parse(emailSchema, values.email, "--email");
    await getControlDb();
    const user = await findUserByEmail(email);
    // A closed account's tombstone has no password to set.
    if (!user || user.closedAt !== null) throw new CliUsageError(`--email: no account with email ${email}`);
    const password = parse(passwordSchema, await readNewPassword(flags["password-stdin"] ?? false), "password");
    // Loaded only when used: it brings the mailer (for the notice), which no other command needs at start.
    const { resetPasswordAsOperator } = await import("../auth/password-reset");
    const { sessionsEnded } = await resetPasswordAsOperator(user.id, password, CLI_ACTOR);
    console.log(`reset the password of ${user.email}: ${sessionsEnded} sessions ended`);
  } else if (command === "workspace create") {
    const { values } = options(rest, ["owner", "name"]);
    const owner = parse(emailSchema, values.owner, "--owner");
    const name = parse(workspaceNameSchema, values.name, "--name");
    await getControlDb();
    const user = await findUserByEmail(owner);
    if (!user) throw new CliUsageError(`--owner: no user with email ${owner}`);
    const workspace = await createWorkspace({ type: "operator", ownerId: user.id }, name);
    console.log(`created workspace "${workspace.name}" owned by ${user.email}`);
    console.log(workspace.id);
  } else if (command === "workspace list") {
    options(rest, []);
    await getControlDb();
    for (const workspace of await listAllWorkspaces()) {
      console.log(`${workspace.id}\t${new Date(workspace.createdAt).toISOString()}\t${workspace.name}`);
    }
  } else if (command === "audit verify") {
    await runAuditVerify(rest);
  } else if (command === "audit evidence") {
    await runAuditEvidence(rest);
  } else if (command === "audit public-key") {
    options(rest, []);
    // Opening control.db first proves the master key is the right one before its public key is shown.
    await getControlDb();
    const signer = auditSigner(getStore().masterKey);
    console.log(publicKeyPem(signer.publicKey).trim());
    console.log(`key id: ${signer.keyId}`);
  } else if (command === "workspace invite") {
    // Loaded only when used: it brings the mailer, which no other command needs at start.
    const { runWorkspaceInviteCommand } = await import("./invite-command");
    await runWorkspaceInviteCommand(rest);
  } else if (command === "workspace export" || command === "workspace import") {
    // Loaded only when used: the archive code is most of what the CLI would otherwise load at every start.
    const { runWorkspacePortabilityCommand } = await import("./workspace-commands");
    await runWorkspacePortabilityCommand(verb as "export" | "import", rest);
  } else if (noun === "token") {
    await runTokenCommand(verb, rest);
  } else if (noun === "jobs") {
    await runJobCommand(verb, rest);
  } else if (noun === "key") {
    // Loaded only when used, like the archive commands: every other command starts without it.
    const { runKeyCommand } = await import("./key-commands");
    await runKeyCommand(verb, rest);
  } else if (noun === "account") {
    await runAccountCommand(verb, rest);
  } else if (noun === "scan") {
    await runScanCommand(argv.slice(1));
  } else if (noun === "backup") {
    await runBackupCommand(verb, rest);
  } else if (noun === "operator") {
    await runOperatorCommand(verb, rest);
  } else if (noun === "access-requests") {
    // Loaded only when used: it brings the mailer, which no other command needs at start.
    const { runAccessRequestCommand } = await import("./access-request-commands");
    await runAccessRequestCommand(verb, rest);
  } else {
    throw new CliUsageError(`unknown command "${argv.join(" ")}"`);
  }
}

try {
  await run(process.argv.slice(2));
  await closeStore();
} catch (thrown) {
  // A storage fault (full disk, damaged file) is told as its sentence, not as the driver's error and SQL.
  const error = storageFault(thrown);
  const known = error instanceof CliUsageError || error instanceof HttpError || error instanceof ConfigError || error instanceof MasterKeyError || error instanceof RotationError || error instanceof LeaseHeldError;
  console.error(`enclave: ${known ? error.message : String(error)}`);
  if (error instanceof CliUsageError) console.error(USAGE);
  process.exitCode = error instanceof CliUsageError ? 2 : 1;
  await closeStore().catch(() => undefined);
}
