/** `enclave key rotate`: the master key re-keyed into every file, refused under a running server. */
export const KEY_USAGE = `  enclave key rotate [--new-key-file F]          (re-keys every database to a new master key: F holds 64
                                                  hex characters, mode 0600; stop the server first. Without
                                                  F, finishes a rotation a crash interrupted)`;
