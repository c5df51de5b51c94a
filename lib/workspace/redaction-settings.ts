import { eq } from "drizzle-orm";
import { settings } from "@/db/workspace/schema";
import type { WorkspaceAccess } from "../access/authorize";
import { auditWorkspaceTx } from "../audit/audit";
import type { Drizzle } from "../db/database";
import { withWorkspace } from "../db/store";
import type { WorkspaceSchema } from "@/db/workspace/schema";
import { compilePolicy, redactionSettingsSchema, type RedactionPolicy } from "./redaction";
import type { z } from "zod";

/**
 * Each workspace keeps its redaction level and custom patterns in its own `settings` table,
 * read inside the writing transaction so a settings change and a write cannot interleave.
 * Compiled policies are cached by their settings text: compiling is cheap, but not free on
 * every write of a busy sync.
 */
export type RedactionSettings = z.infer<typeof redactionSettingsSchema>;
type Tx = Drizzle<WorkspaceSchema>;

const KEY = "redaction";
export const defaultRedactionSettings: RedactionSettings = { level: "standard", customPatterns: [] };
const compiled = new Map<string, RedactionPolicy>();

async function settingsText(tx: Tx): Promise<string | null> {
  const [row] = await tx.select({ value: settings.value }).from(settings).where(eq(settings.key, KEY));
  return row?.value ?? null;
}

export async function readRedactionSettings(tx: Tx): Promise<RedactionSettings> {
  const text = await settingsText(tx);
  return text ? redactionSettingsSchema.parse(JSON.parse(text)) : defaultRedactionSettings;
}

export async function redactionPolicy(tx: Tx): Promise<RedactionPolicy> {
  const text = (await settingsText(tx)) ?? JSON.stringify(defaultRedactionSettings);
  let policy = compiled.get(text);
  if (!policy) {
    policy = compilePolicy(redactionSettingsSchema.parse(JSON.parse(text)));
    if (compiled.size > 1000) compiled.clear();
    compiled.set(text, policy);
  }
  return policy;
}

export async function getRedactionSettings(access: WorkspaceAccess<"settings">): Promise<RedactionSettings> {
  return withWorkspace(access.workspaceId, (db) => readRedactionSettings(db.db));
}

export async function setRedactionSettings(access: WorkspaceAccess<"settings">, next: RedactionSettings): Promise<RedactionSettings> {
  return withWorkspace(access.workspaceId, (db) =>
    db.transaction(async (tx) => {
      await storeRedactionSettings(tx, next);
      await auditWorkspaceTx(tx, access.workspaceId, {
        actor: access.actor,
        action: "redaction.settings_change",
        details: { level: next.level, customPatterns: next.customPatterns.map((p) => p.name) },
      });
      return next;
    }),
  );
}

/** Writes the settings inside the caller's transaction (a change through the API, an import). */
export async function storeRedactionSettings(tx: Tx, next: RedactionSettings): Promise<void> {
  const value = JSON.stringify(next);
  await tx.insert(settings).values({ key: KEY, value, updatedAt: Date.now() }).onConflictDoUpdate({ target: settings.key, set: { value, updatedAt: Date.now() } });
}

