import Link from "next/link";
import { getConfig } from "@/lib/config";
import { securityFacts, type SecurityFact } from "@/lib/trust/security-facts";
import { readSecurityState } from "@/lib/trust/security-state";

export const metadata = { title: "Security · Enclave" };

const KIND_LABEL: Record<SecurityFact["kind"], string> = { control: "in force", absent: "not on", alert: "attention" };

/**
 * This instance's trust page, made on each request from its running configuration and
 * control.db (lib/trust/security-facts.ts): a claim appears only when the configuration backs it.
 */
export default async function SecurityPage() {
  const config = getConfig();
  const { facts, doesNot } = securityFacts(config, await readSecurityState());
  return (
    <>
      <h1>Security of this instance</h1>
      <p>
        What this Enclave server does to keep its data safe, read from its running configuration and its database when you opened this page. Each line names
        the setting or record it comes from. Nothing here is a promise the configuration does not keep.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Topic</th>
            <th scope="col">What holds here</th>
            <th scope="col">Evidence</th>
          </tr>
        </thead>
        <tbody>
          {facts.map((fact) => (
            <tr key={fact.id} data-fact={fact.id} data-kind={fact.kind}>
              <th scope="row">{fact.topic}</th>
              <td>
                {fact.kind !== "control" && <span className={fact.kind === "alert" ? "warning" : "muted"}>{KIND_LABEL[fact.kind]}: </span>}
                {fact.claim}
              </td>
              <td>
                <code>{fact.evidence}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>What Enclave does not do</h2>
      <ul className="list">
        {doesNot.map((line) => (
          <li key={line}>{line}</li>
        ))}
      </ul>
      <h2>Reporting a problem</h2>
      {config.ENCLAVE_SECURITY_CONTACT !== undefined ? (
        <p>
          To report a security problem with this instance, contact its operator at <code>{config.ENCLAVE_SECURITY_CONTACT}</code> (also in{" "}
          <a href="/.well-known/security.txt">/.well-known/security.txt</a>).
        </p>
      ) : (
        <p>This instance&apos;s operator has not published a security contact.</p>
      )}
      <p>
        A vulnerability in Enclave&apos;s own code, rather than in how this server is run, goes to the Enclave project as its <code>SECURITY.md</code> describes.
        See also <Link href="/privacy">what is stored about you</Link> and <Link href="/cookies">the cookies this instance sets</Link>.
      </p>
    </>
  );
}
