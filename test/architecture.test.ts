import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

/**
 * The shape lib/ keeps (DESIGN.md, "Layout"): lib/http and lib/log are leaves, and no lib
 * folder imports another in a cycle, so each layer can be read, and tested, without the ones
 * above it. Read from the import statements of every non-test file.
 */
const LIB = path.resolve(import.meta.dirname, "../lib");

function folderGraph(): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  const folderOf = (file: string) => path.relative(LIB, file).split(path.sep)[0]!;
  const visit = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith(".test.ts") && path.dirname(file) !== LIB) {
        for (const [, spec] of fs.readFileSync(file, "utf8").matchAll(/(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/g)) {
          const target = spec!.startsWith("@/lib/") ? path.join(LIB, spec!.slice("@/lib/".length)) : spec!.startsWith(".") ? path.resolve(path.dirname(file), spec!) : null;
          // Files at the root of lib/ (config.ts) are leaves of their own, not folders.
          if (!target?.startsWith(LIB + path.sep) || path.dirname(target) === LIB) continue;
          const [from, to] = [folderOf(file), folderOf(target)];
          if (from !== to) (graph.get(from) ?? graph.set(from, new Set()).get(from)!).add(to);
        }
      }
    }
  };
  visit(LIB);
  return graph;
}

function cycles(graph: Map<string, Set<string>>): string[] {
  const found = new Set<string>();
  const walk = (start: string, node: string, trail: string[]) => {
    for (const next of graph.get(node) ?? []) {
      if (next === start) found.add([...trail].sort().join(" <-> "));
      else if (!trail.includes(next)) walk(start, next, [...trail, next]);
    }
  };
  for (const start of graph.keys()) walk(start, start, [start]);
  return [...found];
}

describe("lib/ folders", () => {
  const graph = folderGraph();

  it("lib/http and lib/log import no other lib folder", () => {
    expect([...(graph.get("http") ?? [])]).toEqual([]);
    expect([...(graph.get("log") ?? [])]).toEqual([]);
  });

  it("no two lib folders import each other, directly or through others", () => {
    expect(graph.size).toBeGreaterThan(8);
    expect(cycles(graph)).toEqual([]);
  });
});
