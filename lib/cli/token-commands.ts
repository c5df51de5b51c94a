import { issueTeamToken, issueTokenSchema, listTeamTokens, revokeTeamToken, tokenStatus, tokenWorkspaceId } from "../access/tokens";
import { getControlDb } from "../db/store";
import { CliUsageError, operatorAccess, options, parse } from "./args";
import { listAllWorkspaces } from "../workspace/workspaces";

/**
 * `enclave token …`: the operator's way to issue, list and revoke team tokens. The operator
 * holds the master key, so CLI tokens are issued as "operator" and capped at admin.
 */
export const TOKEN_USAGE = `  enclave token create --workspace W (--role viewer|member|admin | --scope a,b) [--name N] [--expires-in 30d]
                                                  (prints the token last; it is shown only this once)
  enclave token list [--workspace W]
  enclave token revoke TOKEN_ID`;

function days(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(\d{1,4})d$/.exec(value);
  if (!match) throw new CliUsageError("--expires-in: give days, like 30d");
  return Number(match[1]);
}

const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());

export async function runTokenCommand(verb: string | undefined, args: string[]): Promise<void> {
  await getControlDb();
  if (verb === "create") {
    const { values } = options(args, ["workspace", "role", "scope", "name", "expires-in"]);
    const access = await operatorAccess(values.workspace, "tokens");
    const input = parse(issueTokenSchema, {
      name: values.name,
      role: values.role,
      scopes: values.scope?.split(",").map((scope) => scope.trim()),
      expiresInDays: days(values["expires-in"]),
    });
    const { token, summary } = await issueTeamToken(access, input);
    console.log(`issued token ${summary.id} "${summary.name}" (${summary.role ?? summary.scopes.join(",")}), expires ${iso(summary.expiresAt)}`);
    console.log("store it now; it is not shown again:");
    console.log(token);
  } else if (verb === "list") {
    const { values } = options(args, ["workspace"]);
    const workspaceIds = values.workspace ? [values.workspace] : (await listAllWorkspaces()).map((w) => w.id);
    console.log(["id", "workspace", "name", "role/scopes", "created", "last used", "expires", "status"].join("\t"));
    for (const workspaceId of workspaceIds) {
      for (const token of await listTeamTokens(await operatorAccess(workspaceId, "tokens"))) {
        console.log([token.id, workspaceId, token.name, token.role ?? token.scopes.join(","), iso(token.createdAt), iso(token.lastUsedAt), iso(token.expiresAt), tokenStatus(token)].join("\t"));
      }
    }
  } else if (verb === "revoke") {
    const { positionals } = options(args, [], 1);
    const tokenId = positionals[0] ?? "";
    const workspaceId = await tokenWorkspaceId(tokenId);
    if (!workspaceId) throw new CliUsageError(`no token ${tokenId}`);
    await revokeTeamToken(await operatorAccess(workspaceId, "tokens"), tokenId);
    console.log(`revoked ${tokenId}`);
  } else {
    throw new CliUsageError(`unknown command "token ${verb ?? ""}"`);
  }
}
