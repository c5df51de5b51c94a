import { accessRequestStatusSchema, answerAccessRequest, listAccessRequests } from "../access/access-requests";
import { getControlDb } from "../db/store";
import { CLI_ACTOR, CliUsageError, options, parse } from "./args";

const oneLine = (text: string) => text.replace(/\s+/g, " ").trim();

/** `enclave access-requests …` (its usage is in access-request-usage.ts, so the CLI loads this file only when used). */
export async function runAccessRequestCommand(verb: string | undefined, args: string[]): Promise<void> {
  if (verb === "list") {
    const { values } = options(args, ["status"]);
    const status = parse(accessRequestStatusSchema, values.status ?? "pending", "--status");
    await getControlDb();
    for (const request of await listAccessRequests(status)) {
      console.log(`${request.id}\t${new Date(request.createdAt).toISOString()}\t${request.email}\t${oneLine(request.message)}`);
    }
  } else if (verb === "approve" || verb === "decline") {
    const { positionals } = options(args, [], 1);
    await getControlDb();
    const answer = await answerAccessRequest(positionals[0]!, verb === "approve", CLI_ACTOR);
    if (verb === "decline") {
      console.log(`declined ${answer.id}`);
    } else if (answer.mailed) {
      console.log(`approved ${answer.id}: the sign-up invitation was mailed`);
    } else {
      console.log(`approved ${answer.id}; mail is off (or failed), so pass this sign-up link on yourself; it is not shown again:`);
      console.log(answer.link);
    }
  } else {
    throw new CliUsageError(`unknown command "access-requests ${verb ?? ""}"`);
  }
}
