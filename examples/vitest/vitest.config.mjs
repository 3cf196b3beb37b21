// Starting runguard and an instance's first request take a few seconds: longer limits than Vitest's defaults.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["examples/vitest/**/*.test.mjs"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
