import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { z } from "zod";
import { emailSchema, findUserByEmail } from "../auth/users";
import { WORKSPACE_ID_PATTERN } from "../crypto/ids";
import { getControlDb } from "../db/store";
import { exportWorkspace } from "../lifecycle/export";
import { importWorkspace } from "../lifecycle/import";
import { workspaceNameSchema } from "../workspace/workspaces";
import { callerPath, CliUsageError, operatorAccess, options, parse } from "./args";

/** `enclave workspace export|import`: a workspace to a ZIP and back, here or on another Enclave (usage in main.ts). */
const megabytes = (bytes: number) => (bytes / 1_000_000).toFixed(1);

/** Progress on stderr, at most once a second and only once a run has lasted that long. */
function progressOnStderr(verb: string) {
  let last = Date.now();
  return (figures: { files: number; bytes: number }) => {
    const now = Date.now();
    if (now - last < 1000) return;
    last = now;
    process.stderr.write(`${verb} ${figures.files} files, ${megabytes(figures.bytes)} MB\n`);
  };
}

async function exportCommand(args: string[]): Promise<void> {
  const { values } = options(args, ["workspace", "out"]);
  if (!values.out) throw new CliUsageError("--out: give the file to write");
  const out = callerPath(values.out);
  if (fs.existsSync(out)) throw new CliUsageError(`--out: ${out} exists; export does not overwrite files`);
  if (!fs.existsSync(path.dirname(out))) throw new CliUsageError(`--out: there is no folder ${path.dirname(out)}`);
  await getControlDb();
  const access = await operatorAccess(values.workspace, "audit");
  // Written beside the target under a name of its own, then linked into place: a crash or a
  // full disk leaves no half archive under the real name, and a link never replaces a file.
  const partial = path.join(path.dirname(out), `.${path.basename(out)}.${randomBytes(6).toString("hex")}.partial`);
  const exported = await exportWorkspace(access, progressOnStderr("exported"));
  try {
    // 0600: the archive holds everything in the workspace, unencrypted.
    await pipeline(exported.stream, fs.createWriteStream(partial, { flags: "wx", mode: 0o600 }));
    const { outcome, figures } = await exported.done;
    if (outcome !== "complete") throw new Error(`the export ended ${outcome}`);
    try {
      fs.linkSync(partial, out);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new CliUsageError(`--out: ${out} appeared while exporting; it was left alone`);
      throw error;
    }
    console.log(`exported workspace ${access.workspaceId} to ${out}: ${figures.files} files, ${megabytes(figures.bytes)} MB`);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

async function importCommand(args: string[]): Promise<void> {
  const { values } = options(args, ["file", "owner", "name", "workspace"]);
  if (!values.file) throw new CliUsageError("--file: give the archive to import");
  const file = callerPath(values.file);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new CliUsageError(`--file: there is no file ${file}`);
  const email = parse(emailSchema, values.owner, "--owner");
  const name = values.name === undefined ? undefined : parse(workspaceNameSchema, values.name, "--name");
  const workspaceId = values.workspace === undefined ? undefined : parse(z.string().regex(WORKSPACE_ID_PATTERN, "not a workspace id"), values.workspace, "--workspace");
  await getControlDb();
  const owner = await findUserByEmail(email);
  if (!owner) throw new CliUsageError(`--owner: no user with email ${email}`);
  const { workspace, source, figures } = await importWorkspace({ file, owner, name, workspaceId, onProgress: progressOnStderr("read") });
  const redacted = figures.redacted.count > 0 ? `; ${figures.redacted.count} secrets redacted (${figures.redacted.kinds.join(", ")})` : "";
  console.log(
    `imported workspace "${workspace.name}" from ${source.id}, owned by ${owner.email}: ${figures.knowledge} knowledge entries, ` +
      `${figures.sessions} sessions, ${figures.events} events, ${figures.links} links, ${figures.artifacts} artifacts${redacted}`,
  );
  console.log(workspace.id);
}

export async function runWorkspacePortabilityCommand(verb: "export" | "import", args: string[]): Promise<void> {
  if (verb === "export") await exportCommand(args);
  else await importCommand(args);
}
