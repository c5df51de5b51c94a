#!/usr/bin/env node
// The `enclave` command: runs the TypeScript CLI through tsx, from the project root, so it
// finds the same data dir, config and migrations as the server.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

// File arguments (--out, --file) are the caller's: remember where they were given.
process.env.ENCLAVE_CLI_CWD ??= process.cwd();
process.chdir(path.join(path.dirname(fileURLToPath(import.meta.url)), ".."));
process.env.LOG_LEVEL ??= "warn";
process.env.ENCLAVE_CLI = "1";
register();
await import("../lib/cli/main.ts");
