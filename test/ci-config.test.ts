import fs from "node:fs";
import { describe, expect, it } from "vitest";
// `yaml` comes with @seriousme/openapi-schema-validator and vite; a parser, not a validator of
// GitHub's schema, so the checks below spell out what CI depends on.
import { parse } from "yaml";

type Step = { uses?: string; run?: string; with?: Record<string, unknown> };
type Job = { "runs-on": string; container?: { image: string }; steps: Step[] };
type Workflow = { on: Record<string, unknown>; permissions: Record<string, string>; jobs: Record<string, Job> };
type Dependabot = { version: number; updates: { "package-ecosystem": string; directory: string; schedule: { interval: string }; groups?: Record<string, { "update-types": string[] }> }[] };

const workflow = parse(fs.readFileSync(".github/workflows/ci.yml", "utf8")) as Workflow;
const dependabot = parse(fs.readFileSync(".github/dependabot.yml", "utf8")) as Dependabot;
const jobs = Object.values(workflow.jobs);
const runs = jobs.flatMap((job) => job.steps.map((step) => step.run ?? ""));

describe(".github/workflows/ci.yml", () => {
  it("runs on every pull request, reading the repository only", () => {
    expect(Object.keys(workflow.on)).toContain("pull_request");
    expect(workflow.permissions).toEqual({ contents: "read" });
  });

  it("runs .ci/run, the secret scan over every tracked file and the dependency gate", () => {
    expect(runs).toContain("bash .ci/run");
    expect(runs).toContain("git ls-files -z | xargs -0 node bin/enclave.mjs scan --");
    expect(runs).toContain("npm run audit:deps");
  });

  it("every job: an Ubuntu runner, a Debian Node 20 container, Node 20 with npm's cache, actions pinned to commits", () => {
    for (const job of jobs) {
      expect(job["runs-on"]).toMatch(/^ubuntu-/);
      expect(job.container?.image).toBe("node:20-bookworm");
      const setupNode = job.steps.find((step) => step.uses?.startsWith("actions/setup-node@"));
      expect(setupNode?.with).toEqual({ "node-version": 20, cache: "npm" });
      for (const step of job.steps.filter((s) => s.uses)) expect(step.uses).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
    }
  });

  it("names only package.json scripts that exist", () => {
    const scripts = (JSON.parse(fs.readFileSync("package.json", "utf8")) as { scripts: Record<string, string> }).scripts;
    for (const run of runs) for (const [, name] of run.matchAll(/npm run ([\w:-]+)/g)) expect(scripts).toHaveProperty(name!);
  });
});

describe(".github/dependabot.yml", () => {
  it("updates npm weekly with minor and patch grouped, and the workflow's actions monthly", () => {
    expect(dependabot.version).toBe(2);
    const npm = dependabot.updates.find((update) => update["package-ecosystem"] === "npm");
    expect(npm).toMatchObject({ directory: "/", schedule: { interval: "weekly" } });
    expect(Object.values(npm?.groups ?? {}).map((group) => [...group["update-types"]].sort())).toEqual([["minor", "patch"]]);
    const actions = dependabot.updates.find((update) => update["package-ecosystem"] === "github-actions");
    expect(actions).toMatchObject({ directory: "/", schedule: { interval: "monthly" } });
  });
});
