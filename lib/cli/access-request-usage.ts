/** `enclave access-requests …`: the operator's answers to the public request-access form, as the operator API gives them. */
export const ACCESS_REQUEST_USAGE = `  enclave access-requests list [--status pending|approved|declined]
                                                 (id, time, email, message; pending by default, oldest first)
  enclave access-requests approve <id>           (a 7-day sign-up invitation: mailed when ENCLAVE_SMTP_URL is set,
                                                  else its link printed last, only this once, to pass on)
  enclave access-requests decline <id>`;
