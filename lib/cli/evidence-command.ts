import fs from "node:fs";
import { pipeline } from "node:stream/promises";
import { buildEvidenceBundle, type EvidenceSource } from "../audit/evidence";
import { evidencePeriodSchema } from "../audit/evidence-period";
import { getControlDb } from "../db/store";
import { CLI_ACTOR, CliUsageError, operatorAccess, options } from "./args";

export const EVIDENCE_USAGE = `  enclave audit evidence [--workspace ID] --from YYYY-MM-DD --to YYYY-MM-DD --out FILE
                                                 (a signed bundle of the period's audit rows, UTC days, both included;
                                                  control.db's without --workspace; never overwrites FILE;
                                                  check it with: node bin/enclave-verify.mjs FILE --public-key KEY.pem)`;

/** `enclave audit evidence`: writes the bundle to a new file, removed again if anything fails. */
export async function runAuditEvidence(args: string[]): Promise<void> {
  const { values } = options(args, ["workspace", "from", "to", "out"]);
  if (values.from === undefined || values.to === undefined) throw new CliUsageError("--from and --to are required");
  if (!values.out) throw new CliUsageError("--out: give the file to write the bundle to");
  const parsed = evidencePeriodSchema.safeParse({ from: values.from, to: values.to });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliUsageError(`--${String(issue?.path[0] ?? "from")}: ${issue?.message ?? "invalid"}`);
  }
  await getControlDb();
  const source: EvidenceSource =
    values.workspace === undefined
      ? { kind: "control", actor: CLI_ACTOR }
      : { kind: "workspace", workspaceId: (await operatorAccess(values.workspace, "audit")).workspaceId, actor: CLI_ACTOR };
  // Claimed before the export (which is audited) and exclusively: an existing file is never replaced.
  let fd: number;
  try {
    fd = fs.openSync(values.out, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw new CliUsageError(`--out: ${values.out} already exists; not overwriting it`);
    throw error;
  }
  let file: fs.WriteStream | undefined;
  try {
    const bundle = await buildEvidenceBundle(source, parsed.data);
    file = fs.createWriteStream(values.out, { fd });
    await pipeline(bundle.stream, file);
    const { manifest } = bundle;
    console.log(`wrote ${values.out}: ${manifest.rows.count} rows of ${manifest.chain}, ${manifest.period.from} to ${manifest.period.to}`);
    console.log(`anchor ${manifest.anchor.seq}:${manifest.anchor.hash}`);
    console.log(`head   ${manifest.head.seq}:${manifest.head.hash}`);
  } catch (error) {
    // Once the stream has it, the stream closes the descriptor.
    if (!file) fs.closeSync(fd);
    fs.rmSync(values.out, { force: true });
    throw error;
  }
}
