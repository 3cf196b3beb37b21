// The README's first command runs this demo: every call must answer as Cloud Run would.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const run = promisify(execFile);
const bin = fileURLToPath(new URL("../../../bin/runguard.js", import.meta.url));

describe("runguard up --demo", () => {
  it("shows public, private, service-to-service, secret and IAP calls answering as on Cloud Run", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "rg-demo-"));
    try {
      // As `npm start` runs it: the default data directory, `.runguard`, relative to the working directory (an
      // instance runs elsewhere, so every path it is given must be absolute).
      const { stdout } = await run(
        process.execPath,
        [
          bin,
          "up",
          "--demo",
          "--exit-after-demo",
          "--port",
          "0",
          "--front-end-port",
          "0",
          "--lb-port",
          "0",
          "--lb-https-port",
          "0",
        ],
        { timeout: 120_000, cwd: dataDir },
      );
      const checks = stdout.split("\n").filter((line) => /^\s+[✔✘] /.test(line));
      assert.ok(checks.length >= 15, stdout);
      assert.deepEqual(
        checks.filter((line) => line.includes("✘")),
        [],
      );
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
