"use client";

import { useState } from "react";

type ConfirmButtonProps = {
  /** The first button's text, e.g. "Revoke". */
  label: string;
  /** Its accessible name when the text alone is ambiguous in a list, e.g. "Revoke ci-bot". */
  accessibleName?: string;
  /** The question shown in the confirmation step. */
  question: string;
  confirmLabel: string;
  disabled?: boolean;
  onConfirm: () => Promise<void> | void;
};

/** A destructive action in two steps: the button, then "question? [confirm] [Cancel]". */
export function ConfirmButton({ label, accessibleName, question, confirmLabel, disabled, onConfirm }: ConfirmButtonProps) {
  const [asking, setAsking] = useState(false);
  const [pending, setPending] = useState(false);

  if (!asking) {
    return (
      <button type="button" className="danger" aria-label={accessibleName} disabled={disabled} onClick={() => setAsking(true)}>
        {label}
      </button>
    );
  }
  return (
    <span role="group" aria-label={question} className="confirm">
      <span>{question}</span>
      <button
        type="button"
        className="danger"
        disabled={pending}
        onClick={async () => {
          setPending(true);
          try {
            await onConfirm();
          } finally {
            setPending(false);
            setAsking(false);
          }
        }}
      >
        {confirmLabel}
      </button>
      <button type="button" className="secondary" disabled={pending} onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
