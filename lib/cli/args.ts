import { parseArgs } from "node:util";
import type { z } from "zod";
import { WORKSPACE_ID_PATTERN } from "../crypto/tokens";
import { listAllWorkspaces } from "../workspace/workspaces";

/** What every CLI command shares: its argument parsing, its usage errors (exit 2) and who it acts as. */
export class CliUsageError extends Error {}

export const CLI_ACTOR = { type: "system", id: "cli" } as const;

/** `--name value` options (strings only) and exactly `positionals` bare arguments. */
export function options(args: string[], names: string[], positionals = 0) {
  try {
    const parsed = parseArgs({
      args,
      options: Object.fromEntries(names.map((name) => [name, { type: "string" as const }])),
      strict: true,
      allowPositionals: positionals > 0,
    });
    if (parsed.positionals.length !== positionals) throw new Error(`expected ${positionals} argument(s)`);
    return { values: parsed.values as Record<string, string | undefined>, positionals: parsed.positionals };
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
}

/** Validates with `schema`; the first problem becomes a usage error naming `flag` (or the field). */
export function parse<T extends z.ZodType>(schema: T, value: unknown, flag?: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  throw new CliUsageError(`${flag ?? (issue?.path.join(".") || "input")}: ${issue?.message ?? "invalid"}`);
}

export async function requireWorkspace(id: string | undefined): Promise<string> {
  if (!id || !WORKSPACE_ID_PATTERN.test(id) || !(await listAllWorkspaces()).some((w) => w.id === id)) {
    throw new CliUsageError(`--workspace: no workspace ${id ?? "(missing)"}`);
  }
  return id;
}
