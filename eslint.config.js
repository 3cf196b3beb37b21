// Lint: recommended TypeScript rules plus the folder layering of scripts/layers.json.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";
import { readFileSync } from "node:fs";

const layers = JSON.parse(readFileSync(new URL("./scripts/layers.json", import.meta.url), "utf8"));

export default tseslint.config(
  { ignores: ["dist/**", "node_modules/**", "test/fixtures/**", "**/*.py"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-console": "off",
      "prefer-const": ["error", { ignoreReadBeforeAssign: true }],
    },
  },
  // The folder layering of scripts/layers.json: each folder of src/ imports only the folders and packages listed
  // for it (test/architecture/layers.test.ts also checks type-only imports, cycles and the docs' table).
  ...Object.entries(layers.folders).map(([folder, { imports }]) => ({
    files: [`src/${folder}/**/*.ts`],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: Object.entries(layers.packages)
            .filter(([, allowed]) => !allowed.includes(folder))
            .map(([name, allowed]) => ({ name, message: `only ${allowed.join(", ")} may import ${name}` })),
          patterns: Object.keys(layers.folders)
            .filter((other) => other !== folder && !imports.includes(other))
            .map((other) => ({
              group: [`**/${other}/*`, `**/${other}/**`],
              message: `${folder}/ may not import ${other}/ (scripts/layers.json)`,
            })),
        },
      ],
    },
  })),
);
