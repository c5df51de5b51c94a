import { issueOperatorToken, revokeOperatorToken } from "../access/operator-token";
import { getControlDb } from "../db/store";
import { CLI_ACTOR, CliUsageError, options } from "./args";

/** `enclave operator …`: the operator token, minted and revoked by whoever holds the master key. */
export const OPERATOR_USAGE = `  enclave operator token                         (mints the operator token for /api/operator, revoking the one
                                                  before; prints it last, only this once)
  enclave operator revoke                        (revokes the operator token: the API then refuses every call)`;

export async function runOperatorCommand(verb: string | undefined, args: string[]): Promise<void> {
  options(args, []);
  await getControlDb();
  if (verb === "token") {
    const { id, token, revoked } = await issueOperatorToken(CLI_ACTOR);
    console.log(`issued operator token ${id}${revoked > 0 ? " (the one before is revoked)" : ""}; it works on /api/operator only`);
    console.log("store it now; it is not shown again:");
    console.log(token);
  } else if (verb === "revoke") {
    const revoked = await revokeOperatorToken(CLI_ACTOR);
    console.log(revoked > 0 ? "revoked the operator token" : "no live operator token to revoke");
  } else {
    throw new CliUsageError(`unknown command "operator ${verb ?? ""}"`);
  }
}
