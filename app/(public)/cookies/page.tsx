import { cookies } from "next/headers";
import { ConsentChoice } from "@/app/_components/consent-choice";
import { consentOptions } from "@/app/_components/consent-notice";
import { getConfig } from "@/lib/config";
import { readConsent } from "@/lib/http/consent";
import { instanceCookies } from "@/lib/trust/cookie-context";

export const metadata = { title: "Cookies · Enclave" };

/** Every cookie this instance can set, from the one table in lib/http/cookie-table.ts, filtered to its configuration. */
export default async function CookiesPage() {
  const config = getConfig();
  const rows = instanceCookies(config);
  const options = consentOptions();
  const consent = readConsent(await cookies());
  return (
    <>
      <h1>Cookies</h1>
      <p>
        Every cookie this instance can set, and why. The list follows this server&apos;s configuration: a cookie it cannot set is not listed. None is used
        for advertising or tracking across sites.
      </p>
      <table>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Set by</th>
            <th scope="col">Purpose</th>
            <th scope="col">Lifetime</th>
            <th scope="col">Essential</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={row.name} data-cookie={row.name}>
              <th scope="row">
                <code>{row.name}</code>
              </th>
              <td>
                {row.setBy}
                {row.site !== "this site" && <span className="muted"> (on {row.site})</span>}
              </td>
              <td>{row.purpose}</td>
              <td>{row.lifetime}</td>
              <td>{row.essential ? "yes" : "no: only after you allow it"}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <h2>Your choice</h2>
      {options.length === 0 ? (
        <p>This instance loads nothing optional, so there is nothing to allow or decline: only the essential cookies above are set.</p>
      ) : (
        <>
          <p>
            {consent === null
              ? "You have not chosen yet; until you do, nothing optional loads."
              : consent.size === 0
                ? "You declined every optional service."
                : `You allowed: ${options.filter((option) => consent.has(option.id)).map((option) => option.label).join(", ")}.`}{" "}
            You can change it here at any time.
          </p>
          <ConsentChoice options={options} https={config.secureCookies} banner={false} />
        </>
      )}
    </>
  );
}
