import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes, TextareaHTMLAttributes } from "react";

type Common = { label: string; name: string; errors?: string[]; hint?: string };

/** Label, control, hint and error text, wired for screen readers (aria-describedby, aria-invalid). */
function Wrapper({ id, label, errors, hint, children }: { id: string; label: string; errors?: string[]; hint?: string; children: ReactNode }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children}
      {hint ? (
        <p id={`${id}-hint`} className="hint">
          {hint}
        </p>
      ) : null}
      {errors?.length ? (
        <p id={`${id}-error`} className="field-error">
          {errors.join(" ")}
        </p>
      ) : null}
    </div>
  );
}

function described(id: string, errors?: string[], hint?: string) {
  const ids = [hint ? `${id}-hint` : "", errors?.length ? `${id}-error` : ""].filter(Boolean).join(" ");
  return { "aria-invalid": errors?.length ? true : undefined, "aria-describedby": ids || undefined } as const;
}

type FieldProps = InputHTMLAttributes<HTMLInputElement> & Common;

/** A labelled input with its own error text. `id` defaults to `name`; pass one when a page repeats a form. */
export function Field({ label, name, errors, hint, id = name, ...input }: FieldProps) {
  return (
    <Wrapper id={id} label={label} errors={errors} hint={hint}>
      <input id={id} name={name} {...described(id, errors, hint)} {...input} />
    </Wrapper>
  );
}

type TextAreaProps = TextareaHTMLAttributes<HTMLTextAreaElement> & Common;

export function TextArea({ label, name, errors, hint, id = name, ...textarea }: TextAreaProps) {
  return (
    <Wrapper id={id} label={label} errors={errors} hint={hint}>
      <textarea id={id} name={name} {...described(id, errors, hint)} {...textarea} />
    </Wrapper>
  );
}

type SelectProps = SelectHTMLAttributes<HTMLSelectElement> & Common & { options: readonly string[] };

export function SelectField({ label, name, errors, hint, id = name, options, ...select }: SelectProps) {
  return (
    <Wrapper id={id} label={label} errors={errors} hint={hint}>
      <select id={id} name={name} {...described(id, errors, hint)} {...select}>
        {options.map((option) => (
          <option key={option} value={option}>
            {option}
          </option>
        ))}
      </select>
    </Wrapper>
  );
}

type RadioGroupProps<V extends string> = {
  legend: string;
  name: string;
  options: readonly { value: V; label: string; description: string }[];
  value: V;
  onChange: (value: V) => void;
};

/** A fieldset of radios, each described by its description text. Ids are `${name}-${value}`. */
export function RadioGroup<V extends string>({ legend, name, options, value, onChange }: RadioGroupProps<V>) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      {options.map((option) => {
        const id = `${name}-${option.value}`;
        return (
          <div key={option.value} className="radio">
            <input
              type="radio"
              id={id}
              name={name}
              value={option.value}
              checked={value === option.value}
              onChange={() => onChange(option.value)}
              aria-describedby={`${id}-description`}
            />
            <label htmlFor={id}>{option.label}</label>
            <p id={`${id}-description`} className="hint">
              {option.description}
            </p>
          </div>
        );
      })}
    </fieldset>
  );
}

export function FormError({ message }: { message?: string }) {
  return message ? (
    <p role="alert" className="form-error">
      {message}
    </p>
  ) : null;
}
