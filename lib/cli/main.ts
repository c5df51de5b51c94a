import { parseArgs } from "node:util";
import { z } from "zod";
import { credentialsSchema, createUser, findUserByEmail, emailSchema } from "../auth/users";
import { ConfigError } from "../config";
import { MasterKeyError } from "../crypto/keys";
import { closeStore, getControlDb } from "../db/store";
import { HttpError } from "../http/errors";
import { createWorkspace, listAllWorkspaces, workspaceNameSchema } from "../workspace/workspaces";

const USAGE = `usage:
  enclave user create --email E --password P
  enclave workspace create --owner E --name N     (prints the workspace id last)
  enclave workspace list`;

const CLI_ACTOR = { type: "system", id: "cli" } as const;

class UsageError extends Error {}

function options(args: string[], names: string[]): Record<string, string | boolean | undefined> {
  try {
    const { values } = parseArgs({
      args,
      options: Object.fromEntries(names.map((name) => [name, { type: "string" as const }])),
      strict: true,
    });
    return values;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function parse<T extends z.ZodType>(schema: T, value: unknown, flag: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${flag}: ${result.error.issues[0]?.message ?? "invalid"}`);
  return result.data;
}

async function run(argv: string[]): Promise<void> {
  const [noun, verb, ...rest] = argv;
  const command = `${noun ?? ""} ${verb ?? ""}`;
  if (command === "user create") {
    const { email, password } = options(rest, ["email", "password"]);
    const credentials = parse(credentialsSchema, { email, password }, "--email/--password");
    await getControlDb();
    const user = await createUser(credentials, CLI_ACTOR);
    console.log(`created user ${user.email}`);
    console.log(user.id);
  } else if (command === "workspace create") {
    const values = options(rest, ["owner", "name"]);
    const owner = parse(emailSchema, values.owner, "--owner");
    const name = parse(workspaceNameSchema, values.name, "--name");
    await getControlDb();
    const user = await findUserByEmail(owner);
    if (!user) throw new UsageError(`--owner: no user with email ${owner}`);
    const workspace = await createWorkspace(user.id, name, CLI_ACTOR);
    console.log(`created workspace "${workspace.name}" owned by ${user.email}`);
    console.log(workspace.id);
  } else if (command === "workspace list") {
    options(rest, []);
    await getControlDb();
    for (const workspace of await listAllWorkspaces()) {
      console.log(`${workspace.id}\t${new Date(workspace.createdAt).toISOString()}\t${workspace.name}`);
    }
  } else {
    throw new UsageError(`unknown command "${argv.join(" ")}"`);
  }
}

try {
  await run(process.argv.slice(2));
  await closeStore();
} catch (error) {
  const known = error instanceof UsageError || error instanceof HttpError || error instanceof ConfigError || error instanceof MasterKeyError;
  console.error(`enclave: ${known ? error.message : String(error)}`);
  if (error instanceof UsageError) console.error(USAGE);
  process.exitCode = error instanceof UsageError ? 2 : 1;
  await closeStore().catch(() => undefined);
}
