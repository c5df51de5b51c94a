import { spawnSync } from "node:child_process";
import { randomInt } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { makeTempDir } from "./store";

/**
 * scripts/pre-commit.sh and its installer, run in throwaway git repositories: never by
 * installing hooks into this repository, whose hooks every worktree shares. Only the scan step
 * runs here (ENCLAVE_HOOK_STEPS=scan): typecheck, lint and the related tests are the project's
 * own commands, run by CI on every pull request.
 */
const project = process.cwd();
const hook = path.join(project, "scripts/pre-commit.sh");
const roots: string[] = [];
afterAll(() => roots.forEach((root) => fs.rmSync(root, { recursive: true, force: true })));

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const githubToken = () => "ghp_" + Array.from({ length: 36 }, () => ALNUM[randomInt(ALNUM.length)]).join("");

function run(cwd: string, command: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(command, args, {
    cwd,
    // A HOME of its own: no global git config (a core.hooksPath, a signing key) leaks in.
    env: { PATH: process.env.PATH, HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", NODE_ENV: "test", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

function repo(): { root: string; git: (...args: string[]) => ReturnType<typeof run>; write: (file: string, text: string) => void } {
  const root = makeTempDir();
  roots.push(root);
  const git = (...args: string[]) => run(root, "git", args);
  git("init", "-q", "-b", "main");
  git("config", "user.email", "dev@example.com");
  git("config", "user.name", "Dev");
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  return { root, git, write };
}

const preCommit = (root: string, steps = "scan") => run(root, "bash", [hook], { ENCLAVE_HOOK_STEPS: steps });

describe("the pre-commit secret scan", () => {
  it("blocks a staged secret, naming the path and line but not the secret", () => {
    const { root, git, write } = repo();
    const token = githubToken();
    write("README.md", "# app\n");
    write("config/ci settings.yml", `env:\n  GITHUB_TOKEN: ${token}\n`);
    git("add", ".");
    const result = preCommit(root);
    expect(result.status).toBe(1);
    expect(result.stdout.trim()).toBe("config/ci settings.yml:2: github_token");
    expect(result.stdout + result.stderr).not.toContain(token);
  });

  it("scans what is staged: an unstaged fix does not hide a staged secret", () => {
    const { root, git, write } = repo();
    write("app.ts", `export const token = "${githubToken()}";\n`);
    git("add", "app.ts");
    write("app.ts", "export const token = process.env.GITHUB_TOKEN;\n");
    expect(preCommit(root).status).toBe(1);
  });

  it("passes a clean staged file although the working tree holds a secret that is not staged", () => {
    const { root, git, write } = repo();
    write("app.ts", "export const token = process.env.GITHUB_TOKEN;\n");
    git("add", "app.ts");
    write("app.ts", `export const token = "${githubToken()}";\n`);
    write("notes.txt", `${githubToken()}\n`);
    const result = preCommit(root);
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(/no secrets in 1 file/);
  });

  it("passes when nothing is staged, or only a deletion is", () => {
    const { root, git, write } = repo();
    expect(preCommit(root).status).toBe(0);
    write("old.txt", "nothing secret\n");
    git("add", "old.txt");
    git("commit", "-q", "--no-verify", "-m", "old");
    git("rm", "-q", "old.txt");
    expect(preCommit(root).status).toBe(0);
  });

  it("refuses an unknown step rather than skipping it", () => {
    const { root } = repo();
    const result = preCommit(root, "scan typo");
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('unknown step "typo"');
  });
});

describe("installing the hook (npm install's prepare)", () => {
  it("package.json runs the installer on install and points the hook at the script", () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(project, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
      "simple-git-hooks": Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(manifest.scripts.prepare).toBe("node scripts/install-hooks.mjs");
    expect(manifest["simple-git-hooks"]).toEqual({ "pre-commit": "bash scripts/pre-commit.sh" });
    expect(manifest.devDependencies["simple-git-hooks"]).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it("installs a hook that git runs on commit: a secret is refused, SKIP_SIMPLE_GIT_HOOKS=1 lets it through", () => {
    const { root, git, write } = repo();
    fs.symlinkSync(path.join(project, "node_modules"), path.join(root, "node_modules"));
    write(".gitignore", "node_modules\n");
    write("package.json", JSON.stringify({ name: "t", private: true, "simple-git-hooks": { "pre-commit": `ENCLAVE_HOOK_STEPS=scan bash ${hook}` } }));
    const installed = run(root, process.execPath, [path.join(project, "scripts/install-hooks.mjs")]);
    expect(installed.status).toBe(0);
    expect(fs.readFileSync(path.join(root, ".git/hooks/pre-commit"), "utf8")).toContain(hook);

    write("leak.env", `GITHUB_TOKEN=${githubToken()}\n`);
    git("add", ".");
    const refused = git("commit", "-q", "-m", "leak");
    expect(refused.status).not.toBe(0);
    expect(refused.stdout + refused.stderr).toContain("leak.env:1: github_token");
    expect(git("log", "--oneline").stdout).toBe("");

    const skipped = run(root, "git", ["commit", "-q", "-m", "emergency"], { SKIP_SIMPLE_GIT_HOOKS: "1" });
    expect(skipped.status).toBe(0);
    expect(git("log", "--oneline").stdout).toContain("emergency");
  });

  it("never fails an install: outside a git repository, or with SKIP_INSTALL_SIMPLE_GIT_HOOKS=1, it says why and exits 0", () => {
    const plain = makeTempDir();
    roots.push(plain);
    fs.symlinkSync(path.join(project, "node_modules"), path.join(plain, "node_modules"));
    const outside = run(plain, process.execPath, [path.join(project, "scripts/install-hooks.mjs")]);
    expect(outside.status).toBe(0);
    expect(outside.stdout).toContain("not inside a git repository");

    const { root } = repo();
    const skipped = run(root, process.execPath, [path.join(project, "scripts/install-hooks.mjs")], { SKIP_INSTALL_SIMPLE_GIT_HOOKS: "1" });
    expect(skipped.status).toBe(0);
    expect(skipped.stdout).toContain("SKIP_INSTALL_SIMPLE_GIT_HOOKS");
    expect(fs.existsSync(path.join(root, ".git/hooks/pre-commit"))).toBe(false);

    const noDevDependencies = run(root, process.execPath, [path.join(project, "scripts/install-hooks.mjs")]);
    expect(noDevDependencies.status).toBe(0);
    expect(noDevDependencies.stdout).toContain("no dev dependencies");
  });
});
