// kill -9 at any moment leaves the store consistent. A child process moves balance between accounts in
// transactions (the total never changes), counts the transfers in the same transactions, and logs each transfer
// after its commit; it is killed at random moments, including while it is still creating the file. Every
// reopen must find SQLite's integrity check clean, the total intact, and no log for an uncommitted transfer.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { openSqliteStore } from "../../src/store/sqlite-store.js";

const storeModule = fileURLToPath(new URL("../../src/store/sqlite-store.js", import.meta.url));
const ACCOUNTS = 10;
const TOTAL = ACCOUNTS * 100;
const LOG = "projects/p/logs/transfers";

// Plain JavaScript: it runs as a file of its own, importing the compiled store.
const childScript = `
import { openSqliteStore } from ${JSON.stringify(storeModule)};
const store = openSqliteStore({ dataDir: process.argv[2], watchExternalMs: 0 });
const ids = Array.from({ length: ${ACCOUNTS} }, (_, i) => "accounts/" + i);
await store.transact(async (tx) => {
  if ((await tx.list("setting", "accounts/")).length > 0) return;
  for (const id of ids) tx.put("setting", id, { balance: 100 });
  tx.put("setting", "transfers", { count: 0 });
});
process.stdout.write("ready\\n");
const pick = () => ids[Math.floor(Math.random() * ids.length)];
for (;;) {
  const from = pick(), to = pick(), amount = 1 + Math.floor(Math.random() * 20);
  if (from === to) continue;
  const count = await store.transact(async (tx) => {
    const a = await tx.get("setting", from);
    const b = await tx.get("setting", to);
    const transfers = await tx.get("setting", "transfers");
    await new Promise((resolve) => setImmediate(resolve)); // let log acknowledgements interleave
    tx.put("setting", from, { balance: a.balance - amount });
    tx.put("setting", to, { balance: b.balance + amount });
    tx.put("setting", "transfers", { count: transfers.count + 1 });
    return transfers.count + 1;
  });
  void store.appendLog({ timestamp: new Date().toISOString(), logName: ${JSON.stringify(LOG)}, entry: { count, from, to, amount } });
}
`;

/** Starts the child and kills it after the given delay, counted from "ready" unless early is set. */
async function runAndKill(script: string, dataDir: string, delayMs: number, early: boolean): Promise<void> {
  const child = spawn(process.execPath, [script, dataDir], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  if (!early) {
    const ready = new Promise<"ready">((resolve) => child.stdout.once("data", () => resolve("ready")));
    const outcome = await Promise.race([ready, exited]);
    assert.equal(outcome, "ready", `the child failed before it was ready: ${stderr}`);
  }
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  assert.equal(child.exitCode, null, `the child stopped by itself: ${stderr}`);
  child.kill("SIGKILL");
  await exited;
}

function checkIntegrity(file: string): void {
  if (!existsSync(file)) return; // killed before it even created the file
  // A read-write connection, so that it recovers the WAL the killed process left behind.
  const db = new Database(file);
  try {
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  } finally {
    db.close();
  }
}

async function checkInvariants(dataDir: string, round: number): Promise<number> {
  const store = openSqliteStore({ dataDir, watchExternalMs: 0 });
  try {
    const accounts = await store.list<{ balance: number }>("setting", "accounts/");
    const transfers = (await store.get<{ count: number }>("setting", "transfers"))?.count ?? 0;
    // The accounts are created in one transaction: all of them or none.
    if (accounts.length === 0) {
      assert.equal(transfers, 0);
      return 0;
    }
    assert.equal(accounts.length, ACCOUNTS, `round ${round}: accounts`);
    const total = accounts.reduce((sum, account) => sum + account.balance, 0);
    assert.equal(total, TOTAL, `round ${round}: total preserved after ${transfers} transfers`);
    const logs = await store.readLogs({ logNamePrefix: LOG, limit: Infinity });
    const counts = logs.map((r) => r.entry["count"] as number);
    assert.ok(
      counts.every((c) => c <= transfers),
      `round ${round}: a log names a transfer that was never committed`,
    );
    assert.equal(new Set(counts).size, counts.length, `round ${round}: a transfer was logged twice`);
    return transfers;
  } finally {
    await store.close();
  }
}

describe("store crash safety", () => {
  it("stays consistent through SIGKILLs at random moments", async (t) => {
    const dir = mkdtempSync(join(tmpdir(), "rg-crash-"));
    const dataDir = join(dir, "data");
    const script = join(dir, "child.mjs");
    writeFileSync(script, childScript);
    try {
      // First while the child may still be starting, creating or migrating the file; then mid-workload.
      const rounds: Array<{ early: boolean; delayMs: number }> = [
        { early: true, delayMs: Math.random() * 80 },
        ...Array.from({ length: 5 }, () => ({ early: false, delayMs: 100 + Math.random() * 300 })),
      ];
      let transfers = 0;
      for (const [round, { early, delayMs }] of rounds.entries()) {
        await runAndKill(script, dataDir, delayMs, early);
        checkIntegrity(join(dataDir, "runguard.db"));
        const now = await checkInvariants(dataDir, round);
        assert.ok(now >= transfers, `round ${round}: committed transfers were lost`);
        transfers = now;
      }
      assert.ok(transfers > 0, "the child committed transfers");
      t.diagnostic(`${transfers} transfers committed across ${rounds.length} kills`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
