import path from "node:path";
import { parseArgs } from "node:util";
import type { z } from "zod";
import { authorize, type WorkspaceAccess } from "../access/authorize";
import { actorOf, OPERATOR } from "../access/principal";
import type { Scope } from "../access/scopes";
import { HttpError } from "../http/errors";

/** What every CLI command shares: its argument parsing, its usage errors (exit 2) and who it acts as. */
export class CliUsageError extends Error {}

export const CLI_ACTOR = actorOf(OPERATOR);

/** `--name value` options, `--flag` switches, and exactly `positionals` bare arguments. */
export function options(args: string[], names: string[], positionals = 0, flags: string[] = []) {
  try {
    const parsed = parseArgs({
      args,
      options: {
        ...Object.fromEntries(names.map((name) => [name, { type: "string" as const }])),
        ...Object.fromEntries(flags.map((name) => [name, { type: "boolean" as const }])),
      },
      strict: true,
      allowPositionals: positionals > 0,
    });
    if (parsed.positionals.length !== positionals) throw new Error(`expected ${positionals} argument(s)`);
    const values = Object.fromEntries(Object.entries(parsed.values).filter(([, value]) => typeof value === "string")) as Record<string, string | undefined>;
    const switches = Object.fromEntries(flags.map((name) => [name, parsed.values[name] === true]));
    return { values, flags: switches, positionals: parsed.positionals };
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

/** The operator's access to `--workspace`, through the same authorize() as every other caller. */
export async function operatorAccess<S extends Scope>(id: string | undefined, scope: S): Promise<WorkspaceAccess<S>> {
  try {
    return await authorize(OPERATOR, id ?? "", scope);
  } catch (error) {
    if (error instanceof HttpError && error.status === 404) throw new CliUsageError(`--workspace: no workspace ${id ?? "(missing)"}`);
    throw error;
  }
}

/** A file argument (--out, --file) as the caller meant it: bin/enclave.mjs runs from the project root, not from where it was called. */
export const callerPath = (file: string): string => path.resolve(process.env.ENCLAVE_CLI_CWD ?? process.cwd(), file);
