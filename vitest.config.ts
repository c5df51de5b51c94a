import path from "node:path";
import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { alias: { "@": path.resolve(import.meta.dirname) } },
  test: {
    include: ["lib/**/*.test.ts", "test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    pool: "forks",
    reporters: ["default", ["json", { outputFile: "reports/unit.json" }]],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
