import Link from "next/link";
import { getConfig } from "@/lib/config";
import { privacyRecipients, privacyRecords } from "@/lib/trust/privacy-records";

export const metadata = { title: "Privacy · Enclave" };

/** What this instance stores about a person, from lib/trust/privacy-records.ts, and how to take it out. */
export default function PrivacyPage() {
  const config = getConfig();
  const recipients = privacyRecipients(config);
  return (
    <>
      <h1>Privacy</h1>
      <p>
        What this Enclave server stores about you, why, and for how long, as it is configured now. It is run by its operator, not by the Enclave project.
        It sells nothing and{" "}
        {recipients.length === 0 ? "shares nothing with anyone: no other service receives your data from it." : "shares your data only with:"}
      </p>
      {recipients.length > 0 && (
        <ul className="list">
          {recipients.map((recipient) => (
            <li key={recipient}>{recipient}</li>
          ))}
        </ul>
      )}
      <table>
        <thead>
          <tr>
            <th scope="col">What</th>
            <th scope="col">Why</th>
            <th scope="col">Kept</th>
          </tr>
        </thead>
        <tbody>
          {privacyRecords(config).map((record) => (
            <tr key={record.id} data-record={record.id}>
              <td>{record.what}</td>
              <td>{record.why}</td>
              <td>{record.kept}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>See, download or delete it</h2>
      <ul className="list">
        <li>
          <Link href="/account/data">Download my data</Link>: a ZIP of everything above that concerns you, and the full contents of the workspaces you own.
        </li>
        <li>
          <Link href="/account/activity">Your activity</Link>: the audit records about you.
        </li>
        <li>
          <Link href="/account">Your account</Link>: your sign-in settings; <Link href="/account/clients">connected AI clients</Link> to disconnect them.
        </li>
        <li>
          <Link href="/account/data/close">Close my account</Link>: you are signed out at once and everything is erased after {config.ENCLAVE_CLOSURE_HOLD_DAYS} days,
          unless you cancel before then.
        </li>
      </ul>
      <p>
        For anything else, ask the operator of this instance. See also <Link href="/security">how this instance protects data</Link> and{" "}
        <Link href="/cookies">its cookies</Link>.
      </p>
    </>
  );
}
