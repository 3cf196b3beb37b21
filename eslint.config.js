// Lint: recommended TypeScript rules plus the layering rule that keeps domain code free of HTTP and I/O.
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

const httpModules = ["node:http", "node:https", "node:net", "undici", "http", "https"];

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
  {
    files: [
      "src/core/**/*.ts",
      "src/iam/**/*.ts",
      "src/identity/**/*.ts",
      "src/secrets/**/*.ts",
      "src/services/**/*.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: httpModules.map((name) => ({ name, message: "domain code knows nothing of HTTP" })),
          patterns: [
            { group: ["**/control-plane/**", "**/gateway/**"], message: "domain code must not import adapters" },
          ],
        },
      ],
    },
  },
);
