// kill -9 at any moment leaves the store consistent: a child process moves money between accounts in
// transactions (the total never changes) and is killed at random moments; every reopen finds the total intact
// and SQLite's integrity check clean.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openSqliteStore } from "../../src/store/sqlite-store.js";

const storeModule = fileURLToPath(new URL("../../src/store/sqlite-store.js", import.meta.url));
const ACCOUNTS = 10;
const TOTAL = ACCOUNTS * 100;

const worker = `
import { openSqliteStore } from ${JSON.stringify(storeModule)};
const store = openSqliteStore({ dataDir: process.argv[2], watchExternalMs: 0 });
const ids = Array.from({ length: ${ACCOUNTS} }, (_, i) => "accounts/" + i);
await store.transact(async (tx) => {
  if ((await tx.list("setting", "accounts/")).length === 0) for (const id of ids) tx.put("setting", id, { balance: 100 });
});
process.stdout.write("ready\\n");
for (;;) {
  const from = ids[Math.floor(Math.random() * ids.length)], to = ids[Math.floor(Math.random() * ids.length)];
  await store.transact(async (tx) => {
    const a = await tx.get("setting", from), b = await tx.get("setting", to);
    if (from === to) return;
    tx.put("setting", from, { balance: a.balance - 7 });
    tx.put("setting", to, { balance: b.balance + 7 });
  });
  await store.appendLog({ timestamp: new Date().toISOString(), logName: "projects/p/logs/x", entry: { from, to } });
}
`;

describe("store crash safety", () => {
  it("survives five SIGKILLs mid-write", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rg-crash-"));
    const dataDir = join(dir, "data");
    const script = join(dir, "worker.mjs");
    writeFileSync(script, worker);
    try {
      for (let round = 0; round < 5; round++) {
        const child = spawn(process.execPath, [script, dataDir], { stdio: ["ignore", "pipe", "inherit"] });
        await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
        await new Promise((r) => setTimeout(r, 100 + Math.random() * 300));
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));

        const store = openSqliteStore({ dataDir, watchExternalMs: 0 });
        const balances = await store.list<{ balance: number }>("setting", "accounts/");
        assert.equal(balances.length, ACCOUNTS);
        assert.equal(
          balances.reduce((sum, a) => sum + a.balance, 0),
          TOTAL,
          `round ${round}: total preserved`,
        );
        await store.close();
        const db = new Database(join(dataDir, "runguard.db"), { readonly: true });
        assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
        db.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
