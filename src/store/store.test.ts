// The Store contract, run against every backend: whatever passes here can replace the SQLite store.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ApiError } from "../core/errors.js";
import { createMemoryStore } from "./memory-store.js";
import { compareNames, MAX_ATTEMPTS } from "./optimistic-tx.js";
import { openSqliteStore } from "./sqlite-store.js";
import type { Change, LogEntryRecord, LogPosition, RequestLogRow, Store } from "./store.js";

const dirs: string[] = [];
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
function openTempSqlite(): Store {
  const dir = mkdtempSync(join(tmpdir(), "rg-store-"));
  dirs.push(dir);
  return openSqliteStore({ dataDir: join(dir, "data"), watchExternalMs: 0 });
}

const backends: Array<[string, () => Store]> = [
  ["sqlite", openTempSqlite],
  ["memory", createMemoryStore],
];

const tick = () => new Promise((resolve) => setTimeout(resolve, 2));
const isUnavailable = (e: unknown) => e instanceof ApiError && e.status === "UNAVAILABLE";
type Counter = { n: number };

for (const [backend, open] of backends) {
  describe(`${backend} store contract`, () => {
    // Each test gets a fresh store, closed afterwards even when the test fails.
    const withStore = (body: (store: Store) => Promise<void>) => async () => {
      const store = open();
      try {
        await body(store);
      } finally {
        await store.close();
      }
    };

    it(
      "creates, reads, replaces and deletes documents, handing out copies",
      withStore(async (store) => {
        assert.equal(await store.get("project", "projects/p"), undefined);
        await store.transact(async (tx) => tx.put("project", "projects/p", { projectId: "p", labels: { a: "1" } }));
        const read = await store.get<{ projectId: string; labels: Record<string, string> }>("project", "projects/p");
        assert.deepEqual(read, { projectId: "p", labels: { a: "1" } });
        read!.labels["a"] = "mutated";
        assert.deepEqual(await store.get("project", "projects/p"), { projectId: "p", labels: { a: "1" } });
        await store.transact(async (tx) => tx.put("project", "projects/p", { projectId: "p", state: "ACTIVE" }));
        assert.deepEqual(await store.get("project", "projects/p"), { projectId: "p", state: "ACTIVE" });
        assert.equal(await store.get("user", "projects/p"), undefined, "kinds are separate namespaces");
        await store.transact(async (tx) => tx.delete("project", "projects/p"));
        assert.equal(await store.get("project", "projects/p"), undefined);
      }),
    );

    it(
      "lists by literal prefix (names with % and _) in code point order",
      withStore(async (store) => {
        const names = [
          "projects/p/secrets/a_b%c",
          "projects/p/secrets/axb",
          "projects/p/secrets/a%",
          "projects/p/secrets/a\u{1F600}",
          "projects/p/secrets/a\uFF01",
          "projects/p2/secrets/a",
          "projects/q/secrets/a",
        ];
        await store.transact(async (tx) => names.forEach((name, i) => tx.put("secret", name, { name, i })));
        await store.transact(async (tx) => tx.put("secretVersion", "projects/p/secrets/a_b%c/versions/1", {}));
        const listed = async (prefix?: string) =>
          (await store.list<{ name: string }>("secret", prefix)).map((d) => d.name);
        assert.deepEqual(await listed("projects/p/secrets/a_"), ["projects/p/secrets/a_b%c"]);
        assert.deepEqual(await listed("projects/p/secrets/a%"), ["projects/p/secrets/a%"]);
        // U+FF01 sorts before U+1F600 by code point (and in SQLite), though not by UTF-16 unit.
        assert.deepEqual(await listed("projects/p/"), [
          "projects/p/secrets/a%",
          "projects/p/secrets/a_b%c",
          "projects/p/secrets/axb",
          "projects/p/secrets/a\uFF01",
          "projects/p/secrets/a\u{1F600}",
        ]);
        assert.deepEqual(await listed(), [...names].sort(compareNames), "no prefix lists the whole kind");
        assert.deepEqual(await listed("projects/z"), []);
        const inTx = await store.transact(async (tx) => {
          tx.put("secret", "projects/p/secrets/a\uFF02", { name: "projects/p/secrets/a\uFF02" });
          tx.delete("secret", "projects/p/secrets/axb");
          return (await tx.list<{ name: string }>("secret", "projects/p/secrets/a")).map((d) => d.name);
        });
        assert.deepEqual(inTx, [
          "projects/p/secrets/a%",
          "projects/p/secrets/a_b%c",
          "projects/p/secrets/a\uFF01",
          "projects/p/secrets/a\uFF02",
          "projects/p/secrets/a\u{1F600}",
        ]);
      }),
    );

    it(
      "lets a transaction read its own buffered writes",
      withStore(async (store) => {
        await store.transact(async (tx) => {
          tx.put("group", "groups/a", { v: 1 });
          tx.put("group", "groups/c", { v: 1 });
        });
        const seen = await store.transact(async (tx) => {
          tx.put("group", "groups/b", { v: 2 });
          tx.put("group", "groups/a", { v: 2 });
          tx.delete("group", "groups/c");
          const a = await tx.get("group", "groups/a");
          const c = await tx.get("group", "groups/c");
          return { a, c, list: await tx.list("group", "groups/") };
        });
        assert.deepEqual(seen, { a: { v: 2 }, c: undefined, list: [{ v: 2 }, { v: 2 }] });
        assert.deepEqual(await store.list("group"), [{ v: 2 }, { v: 2 }]);
      }),
    );

    it(
      "writes nothing and announces nothing when the function throws",
      withStore(async (store) => {
        const changes: Change[] = [];
        store.onChange((c) => changes.push(c));
        await assert.rejects(
          store.transact(async (tx) => {
            tx.put("user", "users/a", { n: 1 });
            await tick();
            tx.put("user", "users/b", { n: 1 });
            throw new Error("validation failed");
          }),
          /validation failed/,
        );
        assert.deepEqual(await store.list("user"), []);
        assert.deepEqual(changes, []);
      }),
    );

    it(
      "rejects values JSON cannot hold before anything is written",
      withStore(async (store) => {
        const cyclic: Record<string, unknown> = {};
        cyclic["self"] = cyclic;
        for (const bad of [undefined, () => 1, Symbol("s"), 10n, cyclic]) {
          await assert.rejects(
            store.transact(async (tx) => {
              tx.put("setting", "good", { ok: true });
              tx.put("setting", "bad", bad);
            }),
            TypeError,
          );
        }
        assert.deepEqual(await store.list("setting"), []);
        await store.transact(async (tx) => tx.put("setting", "date", { at: new Date(0), gone: undefined }));
        assert.deepEqual(await store.get("setting", "date"), { at: "1970-01-01T00:00:00.000Z" });
      }),
    );

    it(
      "re-runs the later of two overlapping transactions so both increments survive",
      withStore(async (store) => {
        await store.transact(async (tx) => tx.put("setting", "counter", { n: 0 }));
        let runs = 0;
        const increment = () =>
          store.transact(async (tx) => {
            runs++;
            const current = await tx.get<Counter>("setting", "counter");
            await tick(); // the other transaction reads the same version here
            tx.put("setting", "counter", { n: (current?.n ?? 0) + 1 });
            return current?.n;
          });
        const seen = await Promise.all([increment(), increment()]);
        assert.deepEqual(await store.get("setting", "counter"), { n: 2 });
        assert.equal(runs, 3, "exactly one transaction ran again");
        assert.deepEqual(seen.sort(), [0, 1], "the re-run saw the other's commit");
      }),
    );

    it(
      "notices a document deleted and re-created meanwhile (no version reuse)",
      withStore(async (store) => {
        await store.transact(async (tx) => tx.put("policy", "projects/p", { etag: "a" }));
        let runs = 0;
        const etag = await store.transact(async (tx) => {
          runs++;
          const policy = await tx.get<{ etag: string }>("policy", "projects/p");
          if (runs === 1) {
            await store.transact(async (other) => other.delete("policy", "projects/p"));
            await store.transact(async (other) => other.put("policy", "projects/p", { etag: "b" }));
          }
          return policy?.etag;
        });
        assert.equal(runs, 2);
        assert.equal(etag, "b");
      }),
    );

    it(
      "notices a document added under a listed prefix (phantoms)",
      withStore(async (store) => {
        // Allocating the next key by counting is only safe if the count is checked at commit.
        const allocate = () =>
          store.transact(async (tx) => {
            const existing = await tx.list("serviceAccountKey", "keys/");
            await tick();
            const name = `keys/${existing.length}`;
            tx.put("serviceAccountKey", name, { name });
            return name;
          });
        const names = await Promise.all([allocate(), allocate(), allocate()]);
        assert.deepEqual(names.sort(), ["keys/0", "keys/1", "keys/2"]);
        assert.equal((await store.list("serviceAccountKey")).length, 3);
      }),
    );

    it(
      "re-runs a read-only transaction that saw two different states",
      withStore(async (store) => {
        await store.transact(async (tx) => {
          tx.put("setting", "a", { n: 100 });
          tx.put("setting", "b", { n: 0 });
        });
        let runs = 0;
        const total = await store.transact(async (tx) => {
          runs++;
          const a = await tx.get<Counter>("setting", "a");
          if (runs === 1) {
            await store.transact(async (other) => {
              other.put("setting", "a", { n: 90 });
              other.put("setting", "b", { n: 10 });
            });
          }
          const b = await tx.get<Counter>("setting", "b");
          return (a?.n ?? 0) + (b?.n ?? 0);
        });
        assert.equal(total, 100);
        assert.equal(runs, 2);
      }),
    );

    it(
      `gives up with ABORTED after ${MAX_ATTEMPTS} conflicting attempts, writing nothing`,
      withStore(async (store) => {
        await store.transact(async (tx) => tx.put("setting", "hot", { n: 0 }));
        let runs = 0;
        const conflicting = store.transact(async (tx) => {
          runs++;
          await tx.get("setting", "hot");
          await store.transact(async (inner) => inner.put("setting", "hot", { n: runs }));
          tx.put("setting", "hot", { n: -1 });
          tx.put("setting", "other", { n: -1 });
        });
        await assert.rejects(
          conflicting,
          (e: unknown) => e instanceof ApiError && e.status === "ABORTED" && /concurrent/.test(e.message),
        );
        assert.equal(runs, MAX_ATTEMPTS);
        assert.deepEqual(await store.get("setting", "hot"), { n: MAX_ATTEMPTS });
        assert.equal(await store.get("setting", "other"), undefined);
      }),
    );

    it(
      "refuses a transaction view used after its transaction",
      withStore(async (store) => {
        let leaked: Parameters<Parameters<Store["transact"]>[0]>[0] | undefined;
        await store.transact(async (tx) => {
          leaked = tx;
        });
        assert.throws(() => leaked?.put("setting", "late", { n: 1 }), /already finished/);
        await assert.rejects(async () => leaked?.get("setting", "late"), /already finished/);
        assert.equal(await store.get("setting", "late"), undefined);
      }),
    );

    it(
      "announces committed changes in commit order; a throwing listener breaks nothing",
      withStore(async (store) => {
        const seen: Change[] = [];
        store.onChange(() => {
          throw new Error("bad listener");
        });
        const unsubscribe = store.onChange((c) => seen.push(c));
        await store.transact(async (tx) => {
          tx.put("group", "groups/b", { email: "b", at: new Date(0) });
          tx.put("group", "groups/a", { email: "a" });
        });
        await store.transact(async (tx) => {
          await tx.get("group", "groups/a"); // read-only: nothing to announce
        });
        await store.transact(async (tx) => tx.delete("group", "groups/b"));
        unsubscribe();
        await store.transact(async (tx) => tx.put("group", "groups/c", { email: "c" }));
        assert.deepEqual(seen, [
          { kind: "group", name: "groups/b", value: { email: "b", at: "1970-01-01T00:00:00.000Z" } },
          { kind: "group", name: "groups/a", value: { email: "a" } },
          { kind: "group", name: "groups/b", value: undefined },
        ]);
        assert.deepEqual(await store.get("group", "groups/c"), { email: "c" });
      }),
    );

    it(
      "scans logs a bounded page at a time, resuming after the last entry, request rows included",
      withStore(async (store) => {
        const row = (i: number, projectId: string): RequestLogRow => ({
          timestampMs: Date.UTC(2026, 0, 1, 0, 0, i),
          projectId,
          serviceName: "api",
          region: "us-central1",
          revision: undefined,
          method: "GET",
          url: `https://api/${i}`,
          status: i % 2 === 0 ? 200 : 403,
          latencyMs: 1,
          requestSize: 0,
          responseSize: undefined,
          userAgent: undefined,
          remoteIp: "127.0.0.1",
          principalEmail: undefined,
          textPayload: undefined,
          trace: undefined,
          reason: undefined,
        });
        await store.appendLog({ timestamp: "2026-01-01T00:00:00.000Z", logName: "projects/p/logs/x", entry: { i: 0 } });
        await store.appendRequestLogs([1, 2, 3, 4, 5].map((i) => row(i, i === 3 ? "q" : "p")));
        await store.appendLog({ timestamp: "2026-01-01T00:00:09.000Z", logName: "projects/p/logs/x", entry: { i: 9 } });
        const idOf = (r: LogEntryRecord) =>
          String(r.entry["i"] ?? (r.entry["httpRequest"] as { requestUrl: string }).requestUrl);
        for (const newestFirst of [true, false]) {
          const expected = (await store.readLogs({ logNamePrefix: "projects/p/", newestFirst, limit: Infinity }))
            .map(idOf)
            .filter((id) => id !== "https://api/3");
          assert.equal(expected.length, 6);
          for (const [limit, maxScanned, maxRows] of [
            [2, 100, undefined],
            [100, 1, undefined],
            [1, 1, undefined],
            [100, 100, 1],
            [2, 100, 2],
          ] as const) {
            const seen: string[] = [];
            let after: LogPosition | undefined;
            let pages = 0;
            do {
              const page = await store.scanLogs({
                logNamePrefixes: ["projects/p/"],
                newestFirst,
                limit,
                maxScanned,
                ...(maxRows ? { maxRows } : {}),
                ...(after ? { after } : {}),
                matches: () => true,
              });
              assert.ok(page.records.length <= Math.min(limit, maxScanned));
              seen.push(...page.records.map(idOf));
              after = page.next;
              assert.ok(++pages < 20);
            } while (after);
            assert.deepEqual(seen, expected, `limit ${limit}, maxScanned ${maxScanned}, maxRows ${maxRows}`);
          }
        }
        const denied = await store.scanLogs({
          logNamePrefixes: ["projects/p/", "projects/q/"],
          fromTimestamp: "2026-01-01T00:00:02.000Z",
          beforeTimestamp: "2026-01-01T00:00:05.000Z",
          newestFirst: false,
          limit: 10,
          maxScanned: 10,
          matches: (r) => (r.entry["httpRequest"] as { status?: number } | undefined)?.status === 403,
        });
        assert.deepEqual(denied.records.map(idOf), ["https://api/3"]);
        assert.equal(denied.next, undefined);
        assert.deepEqual(
          (
            await store.scanLogs({
              logNamePrefixes: [],
              newestFirst: true,
              limit: 5,
              maxScanned: 5,
              matches: () => true,
            })
          ).records,
          [],
        );
      }),
    );

    it(
      "reads logs by literal name prefix, time, order and limit",
      withStore(async (store) => {
        const logNames = ["a%2Factivity", "a%2Frequests", "b%2Factivity", "aX2Factivity"];
        for (const [i, log] of logNames.entries()) {
          await store.appendLog({
            timestamp: `2026-01-0${i + 1}T00:00:00.000Z`,
            logName: `projects/p/logs/${log}`,
            entry: { i },
          });
        }
        await store.appendLogs([]);
        await store.appendLogs(
          [5, 6, 7].map((i) => ({ timestamp: `2026-01-0${i}T00:00:00.000Z`, logName: "x", entry: { i } })),
        );
        const entries = async (query: Parameters<Store["readLogs"]>[0]) =>
          (await store.readLogs(query)).map((r) => r.entry["i"]);
        assert.deepEqual(await entries({ logNamePrefix: "projects/p/logs/a%2F" }), [1, 0]);
        assert.deepEqual(
          await entries({ sinceTimestamp: "2026-01-02T00:00:00.000Z", newestFirst: false }),
          [1, 2, 3, 5, 6, 7],
        );
        assert.deepEqual(await entries({}), [7, 6, 5, 3, 2, 1, 0]);
        assert.deepEqual(await entries({ limit: 2 }), [7, 6]);
        assert.deepEqual(await entries({ limit: 0 }), []);
        assert.deepEqual(await entries({ logNamePrefix: "x", newestFirst: false }), [5, 6, 7]);
        const [first] = await store.readLogs({ newestFirst: false, limit: 1 });
        assert.deepEqual(first, {
          timestamp: "2026-01-01T00:00:00.000Z",
          logName: "projects/p/logs/a%2Factivity",
          entry: { i: 0 },
        });
      }),
    );

    it("rejects every operation once closed, and closes idempotently", async () => {
      const store = open();
      let started!: () => void;
      const running = new Promise<void>((resolve) => (started = resolve));
      // Settled into a value at once: it fails while close() is still being awaited.
      const commitAfterClose = store
        .transact(async (tx) => {
          started();
          await tick();
          tx.put("setting", "late", { n: 1 });
        })
        .then(
          () => "committed",
          (error: unknown) => error,
        );
      await running;
      await Promise.all([store.close(), store.close()]);
      await store.close();
      assert.ok(isUnavailable(await commitAfterClose));
      await assert.rejects(store.get("setting", "late"), isUnavailable);
      await assert.rejects(store.list("setting"), isUnavailable);
      await assert.rejects(
        store.transact(async () => undefined),
        isUnavailable,
      );
      const record = { timestamp: "2026-01-01T00:00:00.000Z", logName: "x", entry: {} };
      await assert.rejects(store.appendLog(record), isUnavailable);
      await assert.rejects(store.appendLogs([record]), isUnavailable);
      await assert.rejects(store.readLogs({}), isUnavailable);
    });
  });
}
