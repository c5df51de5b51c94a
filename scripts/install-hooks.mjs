// npm install's `prepare` step: installs the pre-commit hook (scripts/pre-commit.sh, through
// simple-git-hooks and package.json's "simple-git-hooks") into this checkout's git repository.
// It must never fail an install, so it steps aside, saying why, where there is nothing to install
// into or with: no git repository (a tarball, a Docker build context), no dev dependencies (a
// production host's `npm install --omit=dev`), or SKIP_INSTALL_SIMPLE_GIT_HOOKS=1 (which
// simple-git-hooks itself also honours).
import { spawnSync } from "node:child_process";
import fs from "node:fs";

const skip = (why) => {
  console.log(`[enclave] pre-commit hook not installed: ${why}`);
  process.exit(0);
};
if (["1", "true"].includes(process.env.SKIP_INSTALL_SIMPLE_GIT_HOOKS ?? "")) skip("SKIP_INSTALL_SIMPLE_GIT_HOOKS is set");
if (!fs.existsSync("node_modules/simple-git-hooks/cli.js")) skip("simple-git-hooks is not installed (no dev dependencies)");
if (spawnSync("git", ["rev-parse", "--git-dir"], { stdio: "ignore" }).status !== 0) skip("not inside a git repository");
const result = spawnSync(process.execPath, ["node_modules/simple-git-hooks/cli.js"], { stdio: "inherit" });
if (result.status !== 0) skip(`simple-git-hooks exited with ${result.status ?? result.signal}`);
