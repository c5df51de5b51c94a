import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runVerifier } from "./evidence-bundle";
import { makeTempDir } from "./store";
import { runEnclave } from "./cli-helpers";

const dataDir = makeTempDir();
const outDir = makeTempDir();
afterAll(() => {
  fs.rmSync(dataDir, { recursive: true, force: true });
  fs.rmSync(outDir, { recursive: true, force: true });
});

const enclave = (args: string[], env: Record<string, string> = {}) => runEnclave(dataDir, args, { env, input: "a long passphrase\n" });

const today = new Date().toISOString().slice(0, 10);
const tomorrow = new Date(Date.now() + 24 * 60 * 60 * 1000).toISOString().slice(0, 10);
const out = (name: string) => path.join(outDir, name);
// Each case starts the CLI (tsx) a few times: seconds apiece on a busy machine.
const SLOW = { timeout: 180_000 };

describe("enclave audit evidence", () => {
  it("writes control.db's and a workspace's bundles (0600), which the verifier accepts with the key from `enclave audit public-key`", SLOW, () => {
    expect(enclave(["user", "create", "--email", "ada@example.com", "--password-stdin"]).status).toBe(0);
    const workspace = enclave(["workspace", "create", "--owner", "ada@example.com", "--name", "Research"]).stdout.split("\n").at(-1)!;
    const key = enclave(["audit", "public-key"]).stdout.split("\n").slice(0, -1).join("\n");
    fs.writeFileSync(out("key.pem"), `${key}\n`);

    const control = enclave(["audit", "evidence", "--from", today, "--to", today, "--out", out("control.zip")]);
    expect(control).toMatchObject({ status: 0, stderr: "" });
    expect(control.stdout).toMatch(new RegExp(`^wrote .*control\\.zip: 2 rows of control, ${today} to ${today}\\nanchor 0:0{64}\\nhead   2:[0-9a-f]{64}$`));
    expect(fs.statSync(out("control.zip")).mode & 0o777).toBe(0o600);
    expect(runVerifier(fs.readFileSync(out("control.zip")), key).status).toBe(0);

    const ws = enclave(["audit", "evidence", "--workspace", workspace, "--from", today, "--to", today, "--out", out("ws.zip")]);
    expect(ws.status).toBe(0);
    expect(ws.stdout).toContain(`1 rows of workspace:${workspace}`);
    const verdict = runVerifier(fs.readFileSync(out("ws.zip")), key);
    expect(verdict.status).toBe(0);
    expect(verdict.stdout).toContain(`chain      workspace:${workspace}`);
    // Each export is audited in the chain it exports.
    expect(enclave(["audit", "verify"]).stdout).toMatch(/intact, 3 rows/);
  });

  it("gives identical bytes for one closed period, whatever the machine's time zone", SLOW, () => {
    const bytes = ["UTC", "Pacific/Kiritimati", "America/Los_Angeles"].map((zone, i) => {
      expect(enclave(["audit", "evidence", "--from", "2026-01-01", "--to", "2026-03-31", "--out", out(`q1-${i}.zip`)], { TZ: zone }).status).toBe(0);
      return fs.readFileSync(out(`q1-${i}.zip`));
    });
    expect(bytes[1]!.equals(bytes[0]!)).toBe(true);
    expect(bytes[2]!.equals(bytes[0]!)).toBe(true);
  });

  it("never overwrites a file, and leaves nothing behind when it refuses", SLOW, () => {
    fs.writeFileSync(out("taken.zip"), "mine");
    const taken = enclave(["audit", "evidence", "--from", today, "--to", today, "--out", out("taken.zip")]);
    expect(taken.status).toBe(2);
    expect(taken.stderr).toMatch(/already exists; not overwriting it/);
    expect(fs.readFileSync(out("taken.zip"), "utf8")).toBe("mine");

    const cases: [string[], RegExp][] = [
      [["--from", "2026-01-01", "--out", out("a.zip")], /--from and --to are required/],
      [["--from", "2026-01-01", "--to", "2026-01-31"], /--out/],
      [["--from", "01/01/2026", "--to", "2026-01-31", "--out", out("a.zip")], /--from: Give a date as YYYY-MM-DD/],
      [["--from", "2026-02-01", "--to", "2026-01-31", "--out", out("a.zip")], /--to: The period ends before it starts/],
      [["--from", "2024-01-01", "--to", "2026-01-31", "--out", out("a.zip")], /--to: A bundle covers at most 400 days/],
      [["--from", today, "--to", tomorrow, "--out", out("a.zip")], /--to: The period ends in the future/],
      [["--workspace", "ws_00000000000000000000000000000000", "--from", today, "--to", today, "--out", out("a.zip")], /--workspace: no workspace/],
      [["--workspace", "../../etc", "--from", today, "--to", today, "--out", out("a.zip")], /--workspace: no workspace/],
    ];
    for (const [args, message] of cases) {
      const refused = enclave(["audit", "evidence", ...args]);
      expect(refused.status, args.join(" ")).toBe(2);
      expect(refused.stderr).toMatch(message);
    }
    expect(fs.existsSync(out("a.zip"))).toBe(false);
  });
});
