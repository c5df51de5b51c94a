import fs from "node:fs";
import { scanFile } from "../workspace/secret-scan";
import { callerPath, CliUsageError } from "./args";

/** `enclave scan`: the pre-commit hook's secret scan (lib/workspace/secret-scan.ts), by hand or from any script. */
export const SCAN_USAGE = `  enclave scan [--] FILE…                        (prints FILE:LINE: KIND for each secret found, never the secret;
                                                  exit 1 if any; binary files skipped)`;

function fileArguments(args: string[]): string[] {
  const separator = args.indexOf("--");
  const before = separator === -1 ? args : args.slice(0, separator);
  const flag = before.find((arg) => arg.startsWith("-") && arg !== "-");
  if (flag) throw new CliUsageError(`unknown option ${flag} (put -- before a file whose name starts with -)`);
  const files = separator === -1 ? args : [...before, ...args.slice(separator + 1)];
  if (files.length === 0) throw new CliUsageError("scan: name at least one file");
  return files;
}

export async function runScanCommand(args: string[]): Promise<void> {
  const files = fileArguments(args);
  // Every file is checked before any is scanned: a typo must not pass as "no secrets".
  for (const file of files) {
    const stat = fs.statSync(callerPath(file), { throwIfNoEntry: false });
    if (!stat?.isFile()) throw new CliUsageError(`scan: ${file}: ${stat ? "not a regular file" : "no such file"}`);
  }
  let found = 0;
  let binary = 0;
  for (const file of files) {
    const scan = await scanFile(callerPath(file));
    if (scan.binary) binary += 1;
    for (const finding of scan.findings) console.log(`${file}:${finding.line}: ${finding.kind}`);
    found += scan.findings.length;
  }
  const skipped = binary > 0 ? ` (${binary} binary skipped)` : "";
  if (found > 0) {
    console.error(`enclave scan: ${found} secret(s) in ${files.length} file(s)${skipped}. Remove them (and revoke each: ops/RUNBOOK.md), or end a line that only shows a secret's shape with "enclave-scan: allow".`);
    process.exitCode = 1;
  } else {
    console.error(`enclave scan: no secrets in ${files.length} file(s)${skipped}`);
  }
}
