/**
 * npm run audit:deps — the dependency gate: `npm audit` of the whole tree, failing on a high or
 * critical advisory and saying so plainly when the advisory service cannot be reached (exit 3,
 * never a silent pass). scripts/audit/verdict.ts judges the answer.
 *
 * The whole tree, dev tools included: they ship nothing to the server, but they run in CI and
 * on developers' machines with the source, the lock file and CI's credentials within reach, which
 * is where a poisoned or exploitable package does its harm. To look at what ships alone, pass
 * npm's own flag: `npm run audit:deps -- --omit=dev`.
 */
import { spawnSync } from "node:child_process";
import { judgeAudit } from "./audit/verdict";

const result = spawnSync("npm", ["audit", "--json", "--audit-level=high", ...process.argv.slice(2)], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
if (result.error) {
  console.error(`audit:deps: could not run npm audit: ${result.error.message}`);
  process.exit(3);
}
const verdict = judgeAudit(result.stdout, result.stderr);
const print = verdict.outcome === "pass" ? console.log : console.error;
print(verdict.summary);
if (verdict.outcome === "fail") for (const finding of verdict.findings) console.error(`  ${finding}`);
process.exit(verdict.exitCode);
