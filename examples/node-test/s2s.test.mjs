// Service-to-service authorization with node:test: service A's call to B is refused (403) until A's service
// account holds roles/run.invoker on B. Run: node --test examples/node-test/
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { start } from "runguard";

const apps = fileURLToPath(new URL("../testing-apps/", import.meta.url));
let runguard, caller, callee;

before(async () => {
  runguard = await start();
  callee = await runguard.deploy({
    service: "orders-api",
    command: [process.execPath, "callee.mjs"],
    dir: apps,
    serviceAccount: "orders-api",
  });
  caller = await runguard.deploy({
    service: "storefront",
    command: [process.execPath, "caller.mjs"],
    dir: apps,
    serviceAccount: "storefront",
    allowUnauthenticated: true,
  });
});

after(() => runguard?.stop());

/** Asks A to call B; A's own URL is public, B's is not. */
async function callFromAToB() {
  const response = await fetch(`${caller.localUrl}/?target=${encodeURIComponent(callee.url)}`);
  return response.json();
}

test("A gets 403 from B until A's service account is B's invoker, then 200", async () => {
  assert.equal((await callFromAToB()).status, 403);
  await runguard.addBinding({
    service: "orders-api",
    role: "roles/run.invoker",
    member: `serviceAccount:${caller.serviceAccount}`,
  });
  const answer = await callFromAToB();
  assert.equal(answer.status, 200);
  assert.equal(JSON.parse(answer.body).service, "orders-api");
});
