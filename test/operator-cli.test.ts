import fs from "node:fs";
import { afterAll, describe, expect, it } from "vitest";
import { operatorTokens } from "@/db/control/schema";
import { resolveOperatorToken } from "@/lib/access/operator-token";
import { setConfigForTests } from "@/lib/config";
import { hashSecret } from "@/lib/crypto/secrets";
import { closeStore, getControlDb } from "@/lib/db/store";
import { makeTempDir, testConfig } from "./store";
import { runEnclave } from "./cli-helpers";

const dataDir = makeTempDir();
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

const enclave = (...args: string[]) => runEnclave(dataDir, args);

/** What the CLI left in control.db, read in this process once the CLI has exited. */
async function withControl<T>(fn: (control: Awaited<ReturnType<typeof getControlDb>>) => Promise<T>): Promise<T> {
  setConfigForTests(testConfig(dataDir));
  try {
    return await fn(await getControlDb());
  } finally {
    await closeStore();
    setConfigForTests(undefined);
  }
}

describe("enclave operator", () => {
  it("token prints a new operator token once (last line), keeps only its hash, and revokes the one before; revoke ends it", async () => {
    const first = enclave("operator", "token");
    expect(first.status).toBe(0);
    const firstToken = first.stdout.split("\n").at(-1)!;
    expect(firstToken).toMatch(/^enc_op_[A-Za-z0-9_-]{43}[0-9A-Za-z]{6}$/);
    const second = enclave("operator", "token");
    expect(second.stdout).toMatch(/the one before is revoked/);
    const secondToken = second.stdout.split("\n").at(-1)!;
    await withControl(async (control) => {
      const rows = await control.db.select().from(operatorTokens);
      expect(JSON.stringify(rows)).not.toContain(firstToken);
      expect(rows.map((row) => row.tokenHash).sort()).toEqual([hashSecret(firstToken), hashSecret(secondToken)].sort());
      expect(await resolveOperatorToken(firstToken)).toBeNull();
      expect(await resolveOperatorToken(secondToken)).toEqual({ kind: "operator", via: "token" });
    });
    const revoked = enclave("operator", "revoke");
    expect(revoked).toMatchObject({ status: 0, stdout: "revoked the operator token" });
    expect(enclave("operator", "revoke").stdout).toBe("no live operator token to revoke");
    await withControl(async () => expect(await resolveOperatorToken(secondToken)).toBeNull());
  });

  it("refuses extra arguments and unknown verbs with the usage", () => {
    for (const args of [["operator", "token", "--name", "x"], ["operator", "mint"], ["operator"]]) {
      const result = enclave(...args);
      expect(result.status, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/enclave operator token/);
    }
  });
});
