/**
 * Seeds a benchmark data dir through the lib: one owner, one workspace, one team token, and
 * `entries` knowledge entries of corpus text inserted in batches straight into the table (the
 * FTS triggers index them), then closes the store so a server can open the files.
 *
 * The same steps as bench-api's own seed, with the token's role as a parameter.
 */
import { knowledge, type KnowledgeRow } from "../../db/workspace/schema";
import { authorize } from "../../lib/access/authorize";
import { issueTeamToken } from "../../lib/access/tokens";
import { createUser } from "../../lib/auth/users";
import { parseConfig, setConfigForTests } from "../../lib/config";
import { randomId } from "../../lib/crypto/ids";
import { closeStore, getStore, withWorkspace } from "../../lib/db/store";
import { createWorkspace } from "../../lib/workspace/workspaces";
import { corpusGenerator, pickQueries } from "./corpus";

const INSERT_BATCH = 250;

export type Seeded = {
  workspaceId: string;
  token: string;
  words: number;
  seedSeconds: number;
  queries: { q: string; df: number }[];
};

export async function seedWorkspace(options: {
  dataDir: string;
  masterKey: string;
  entries: number;
  role: "viewer" | "member" | "admin";
  vocabulary: string[];
  seed?: number;
}): Promise<Seeded> {
  const { dataDir, masterKey, entries, role, vocabulary } = options;
  const generate = corpusGenerator(vocabulary, options.seed ?? 42);
  setConfigForTests(parseConfig({ ENCLAVE_DATA_DIR: dataDir, ENCLAVE_MASTER_KEY: masterKey }));
  await getStore().control;
  const owner = await createUser({ email: "bench@example.com", password: "correct horse battery staple" });
  const workspace = await createWorkspace({ type: "user", userId: owner.id }, "Bench");
  const { token } = await issueTeamToken(await authorize({ kind: "user", userId: owner.id }, workspace.id, "tokens"), { name: "bench", role, expiresInDays: 90 });

  // Document frequencies, so the queries can be picked across the whole range of match counts.
  const documentFrequency = new Map<string, number>();
  let words = 0;
  const now = Date.now();
  const started = performance.now();
  for (let i = 0; i < entries; i += INSERT_BATCH) {
    const rows: KnowledgeRow[] = [];
    for (let j = i; j < Math.min(entries, i + INSERT_BATCH); j++) {
      const text = generate();
      const tokens = `${text.title} ${text.body} ${text.tags.join(" ")}`.toLowerCase().match(/[a-z0-9]+/g) ?? [];
      words += tokens.length;
      for (const w of new Set(tokens)) documentFrequency.set(w, (documentFrequency.get(w) ?? 0) + 1);
      const at = now - (entries - j) * 60_000;
      rows.push({
        id: randomId("kn"),
        title: text.title,
        body: text.body,
        tags: JSON.stringify(text.tags),
        source: null,
        author: `user:${owner.id}`,
        createdAt: at,
        updatedAt: at,
        version: 1,
      });
    }
    await withWorkspace(workspace.id, (db) =>
      db.transaction(async (tx) => {
        await tx.insert(knowledge).values(rows);
      }),
    );
  }
  const seedSeconds = (performance.now() - started) / 1000;
  const [count] = await withWorkspace(workspace.id, (db) => db.rows("SELECT count(*) AS n FROM knowledge_fts"));
  if (Number(count?.n) !== entries) throw new Error(`the FTS index holds ${String(count?.n)} rows, expected ${entries}`);
  await closeStore();
  return { workspaceId: workspace.id, token, words, seedSeconds, queries: pickQueries(documentFrequency, vocabulary) };
}
