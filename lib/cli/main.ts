import { credentialsSchema, createUser, findUserByEmail, emailSchema } from "../auth/users";
import { ConfigError } from "../config";
import { MasterKeyError } from "../crypto/keys";
import type { Drizzle } from "../db/database";
import { closeStore, getControlDb, getStore, withWorkspace } from "../db/store";
import { controlAuditLog, verifyAuditChain, workspaceAuditLog } from "../audit/audit";
import { readAuditHead, type AuditTable } from "../audit/chain";
import { auditSigner, checkpointRefSchema, publicKeyPem } from "../audit/checkpoint";
import { HttpError } from "../http/errors";
import { CLI_ACTOR, CliUsageError, operatorAccess, options, parse } from "./args";
import { EVIDENCE_USAGE, runAuditEvidence } from "./evidence-command";
import { readNewPassword } from "./password";
import { JOB_USAGE, runJobCommand } from "./job-commands";
import { runTokenCommand, TOKEN_USAGE } from "./token-commands";
import { ACCOUNT_USAGE, runAccountCommand } from "./account-commands";
import { BACKUP_USAGE, runBackupCommand } from "./backup-commands";
import { createWorkspace, listAllWorkspaces, workspaceNameSchema } from "../workspace/workspaces";

const USAGE = `usage:
  enclave user create --email E [--password-stdin]   (asks for the password, or reads it from stdin)
  enclave workspace create --owner E --name N     (prints the workspace id last)
  enclave workspace list
  enclave workspace export --workspace ID --out FILE
                                                 (a ZIP of its data and audit trail; FILE must not exist)
  enclave workspace import --file FILE --owner E [--name N] [--workspace ID]
                                                 (into a new workspace, redacted as any write is; --workspace
                                                  picks one of several in an account export; prints the id last)
  enclave audit verify [--workspace ID] [--checkpoint SEQ:HASH]
                                                 (exit 1 if the hash chain is broken, ends short of its
                                                  head, or no longer holds that earlier checkpoint)
  enclave audit public-key                       (the key checkpoints are signed with: PEM and key id)
${EVIDENCE_USAGE}
${TOKEN_USAGE}
${ACCOUNT_USAGE}
${JOB_USAGE}
${BACKUP_USAGE}`;

async function run(argv: string[]): Promise<void> {
  const [noun, verb, ...rest] = argv;
  const command = `${noun ?? ""} ${verb ?? ""}`;
  if (command === "user create") {
    if (rest.some((arg) => arg === "--password" || arg.startsWith("--password="))) {
      throw new CliUsageError("--password would put the password in ps and the shell's history: use --password-stdin, or answer the prompt");
    }
    const { values, flags } = options(rest, ["email"], 0, ["password-stdin"]);
    const email = parse(emailSchema, values.email, "--email");
    const credentials = parse(credentialsSchema, { email, password: await readNewPassword(flags["password-stdin"] ?? false) }, "password");
    await getControlDb();
    const user = await createUser(credentials, CLI_ACTOR);
    console.log(`created user ${user.email}`);
    console.log(user.id);
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
    const { values } = options(rest, ["workspace", "checkpoint"]);
    const checkpoint = values.checkpoint === undefined ? undefined : parse(checkpointRefSchema, values.checkpoint, "--checkpoint");
    const control = await getControlDb();
    // The head is read first: if the server appends meanwhile, the head printed is still in the chain verified.
    const check = async (db: Drizzle<Record<string, unknown>>, table: AuditTable) => ({
      head: await readAuditHead(db, table),
      verdict: await verifyAuditChain(db, table, { checkpoint }),
    });
    const { head, verdict } =
      values.workspace !== undefined
        ? await withWorkspace((await operatorAccess(values.workspace, "audit")).workspaceId, (db) => check(db.db, workspaceAuditLog))
        : await check(control.db, controlAuditLog);
    const which = values.workspace !== undefined ? `workspace ${values.workspace}` : "control.db";
    if (verdict.ok) {
      const proof = checkpoint ? `; holds checkpoint ${checkpoint.seq}:${checkpoint.hash}` : "";
      const swept = verdict.anchor ? ` from retention anchor ${verdict.anchor.seq}:${verdict.anchor.hash}` : "";
      console.log(`audit chain of ${which}: intact, ${verdict.rows} rows${swept}, head ${head ? `${head.seq}:${head.hash}` : "none"}${proof}`);
    } else {
      console.log(`audit chain of ${which}: BROKEN at row ${verdict.firstBadSeq} (${verdict.reason})`);
      process.exitCode = 1;
    }
  } else if (command === "audit evidence") {
    await runAuditEvidence(rest);
  } else if (command === "audit public-key") {
    options(rest, []);
    // Opening control.db first proves the master key is the right one before its public key is shown.
    await getControlDb();
    const signer = auditSigner(getStore().masterKey);
    console.log(publicKeyPem(signer.publicKey).trim());
    console.log(`key id: ${signer.keyId}`);
  } else if (command === "workspace export" || command === "workspace import") {
    // Loaded only when used: the archive code is most of what the CLI would otherwise load at every start.
    const { runWorkspacePortabilityCommand } = await import("./workspace-commands");
    await runWorkspacePortabilityCommand(verb as "export" | "import", rest);
  } else if (noun === "token") {
    await runTokenCommand(verb, rest);
  } else if (noun === "jobs") {
    await runJobCommand(verb, rest);
  } else if (noun === "account") {
    await runAccountCommand(verb, rest);
  } else if (noun === "backup") {
    await runBackupCommand(verb, rest);
  } else {
    throw new CliUsageError(`unknown command "${argv.join(" ")}"`);
  }
}

try {
  await run(process.argv.slice(2));
  await closeStore();
} catch (error) {
  const known = error instanceof CliUsageError || error instanceof HttpError || error instanceof ConfigError || error instanceof MasterKeyError;
  console.error(`enclave: ${known ? error.message : String(error)}`);
  if (error instanceof CliUsageError) console.error(USAGE);
  process.exitCode = error instanceof CliUsageError ? 2 : 1;
  await closeStore().catch(() => undefined);
}
