import { defineConfig } from "drizzle-kit";

// Two databases, two migration folders: `DB=workspace npx drizzle-kit generate` for the second.
const which = process.env.DB === "workspace" ? "workspace" : "control";

export default defineConfig({
  dialect: "sqlite",
  schema: `./db/${which}/schema.ts`,
  out: `./db/${which}/migrations`,
});
