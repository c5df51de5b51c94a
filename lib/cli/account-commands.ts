import { emailSchema, findUserByEmail } from "../auth/users";
import { getControlDb } from "../db/store";
import { cancelClosure, closeAccount, listAccounts } from "../lifecycle/closure";
import { purgeAccount } from "../lifecycle/purge";
import { CLI_ACTOR, CliUsageError, options, parse } from "./args";

/**
 * `enclave account …`: the operator closes an account (no re-authentication: the operator
 * holds the master key anyway), cancels a closure, lists accounts. What closing does is
 * lib/lifecycle/closure.ts's; `--now` skips the hold and erases at once (purge.ts).
 */
export const ACCOUNT_USAGE = `  enclave account close --email E [--now]       (signs them out, revokes their tokens and AI clients, deletes
                                                  the workspaces they alone own; erased after the hold, or at once with --now)
  enclave account cancel-closure --email E
  enclave account list [--closing]`;

const iso = (ms: number | null) => (ms === null ? "-" : new Date(ms).toISOString());

// Purging "now" means: whenever its purgeAt is, it is due.
const WHATEVER_ITS_PURGE_DATE = Number.MAX_SAFE_INTEGER;

async function accountByEmail(value: string | undefined) {
  const email = parse(emailSchema, value, "--email");
  const user = await findUserByEmail(email);
  if (!user) throw new CliUsageError(`--email: no account with email ${email}`);
  return user;
}

export async function runAccountCommand(verb: string | undefined, args: string[]): Promise<void> {
  await getControlDb();
  if (verb === "close") {
    const { values, flags } = options(args, ["email"], 0, ["now"]);
    const user = await accountByEmail(values.email);
    const alreadyClosing = user.closureRequestedAt !== null && user.closedAt === null;
    if (!(alreadyClosing && flags.now)) {
      const summary = await closeAccount(user.id, CLI_ACTOR, flags.now ? { holdDays: 0 } : {});
      console.log(
        `closing ${user.email}: ${summary.sessionsEnded} sessions ended, ${summary.tokensRevoked} tokens and ${summary.grantsRevoked} AI clients revoked, ${summary.workspacesDeleted.length} workspaces deleted with it`,
      );
      if (!flags.now) console.log(`erased after ${iso(summary.purgeAt)} unless the closure is cancelled`);
    }
    if (flags.now) {
      await purgeAccount(user.id, WHATEVER_ITS_PURGE_DATE, CLI_ACTOR);
      console.log(`erased ${user.email}: only its tombstone (email, created, closed) is left`);
    }
  } else if (verb === "cancel-closure") {
    const { values } = options(args, ["email"]);
    const user = await accountByEmail(values.email);
    const { workspacesRestored } = await cancelClosure(user.id, CLI_ACTOR);
    console.log(`${user.email} is open again; ${workspacesRestored.length} workspaces restored (revoked tokens and AI clients stay revoked)`);
  } else if (verb === "list") {
    const { flags } = options(args, [], 0, ["closing"]);
    console.log(["id", "email", "state", "created", "purge at", "closed"].join("\t"));
    for (const account of await listAccounts({ closingOnly: flags.closing })) {
      console.log([account.id, account.email, account.state, iso(account.createdAt), iso(account.purgeAt), iso(account.closedAt)].join("\t"));
    }
  } else {
    throw new CliUsageError(`unknown command "account ${verb ?? ""}"`);
  }
}
