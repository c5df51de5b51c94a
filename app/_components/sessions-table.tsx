import type { AccountSession } from "@/lib/auth/account-sessions";
import { formatTime } from "./format";
import { SessionSignOutButton, SignOutOthersButton } from "./session-sign-out";

/** The account page's sessions: device (from the browser's own User-Agent, so a description, not a proof), address, last used. */
export function SessionsTable({ sessions }: { sessions: AccountSession[] }) {
  return (
    <>
      <table aria-label="Your sessions">
        <thead>
          <tr>
            <th scope="col">Device</th>
            <th scope="col">Address</th>
            <th scope="col">Signed in</th>
            <th scope="col">Last used</th>
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((session) => (
            <tr key={session.id}>
              <th scope="row">
                {session.device}
                {session.current ? <small className="muted"> (this session)</small> : null}
              </th>
              <td>{session.ip ?? "unknown"}</td>
              <td>{formatTime(session.createdAt)}</td>
              <td>{formatTime(session.lastSeenAt)}</td>
              <td>
                <SessionSignOutButton sessionId={session.id} device={session.device} current={session.current} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {sessions.some((session) => !session.current) ? <SignOutOthersButton /> : <p className="muted">No other session is signed in.</p>}
    </>
  );
}
