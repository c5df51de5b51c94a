import { RadioGroup, SelectField } from "./field";

export type Access = "role" | "scopes";
export type GrantableScope = { name: string; description: string };

// No option is labelled "Role": the select below is, and a second "Role" label would make
// "the field labelled Role" ambiguous for assistive technology (and for getByLabel).
const accessOptions = [
  { value: "role", label: "Preset", description: "All the scopes of one role: viewer, member or admin." },
  { value: "scopes", label: "Custom scopes", description: "Only the scopes you tick, none beyond your own role's." },
] as const satisfies readonly { value: Access; label: string; description: string }[];

type TokenAccessFieldsProps = {
  access: Access;
  onAccessChange: (access: Access) => void;
  roles: readonly string[];
  /** The scopes this admin may put on a token: their own role's, within what tokens may carry. */
  scopes: readonly GrantableScope[];
  errors?: Record<string, string[]>;
};

/** What a new token may do: a role's scopes, or a hand-picked list sent as `scopes`. */
export function TokenAccessFields({ access, onAccessChange, roles, scopes, errors }: TokenAccessFieldsProps) {
  const scopeErrors = Object.entries(errors ?? {})
    .filter(([key]) => key === "scopes" || key.startsWith("scopes."))
    .flatMap(([, messages]) => messages);
  return (
    <>
      <RadioGroup legend="Access" name="access" options={accessOptions} value={access} onChange={onAccessChange} />
      {access === "role" ? (
        <SelectField label="Role" name="role" options={roles} defaultValue="member" errors={errors?.role} />
      ) : (
        <fieldset aria-describedby={scopeErrors.length ? "scopes-error" : undefined}>
          <legend>Scopes</legend>
          {scopes.map((scope) => (
            <div key={scope.name} className="check">
              <input type="checkbox" id={`scope-${scope.name}`} name="scopes" value={scope.name} />
              <label htmlFor={`scope-${scope.name}`}>
                {scope.description} <code>{scope.name}</code>
              </label>
            </div>
          ))}
          {scopeErrors.length ? (
            <p id="scopes-error" className="field-error">
              {scopeErrors.join(" ")}
            </p>
          ) : null}
        </fieldset>
      )}
    </>
  );
}
