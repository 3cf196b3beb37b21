// Service-to-service authorization with Vitest: service A's call to B is refused (403) until A's service account
// holds roles/run.invoker on B. Run: npx vitest run --config examples/vitest/vitest.config.mjs
import { afterAll, beforeAll, expect, test } from "vitest";
import { fileURLToPath } from "node:url";
import { start } from "runguard";

const apps = fileURLToPath(new URL("../testing-apps/", import.meta.url));
let runguard, caller, callee;

beforeAll(async () => {
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

afterAll(() => runguard?.stop());

async function callFromAToB() {
  const response = await fetch(`${caller.localUrl}/?target=${encodeURIComponent(callee.url)}`);
  return response.json();
}

test("A gets 403 from B until A's service account is B's invoker, then 200", async () => {
  expect((await callFromAToB()).status).toBe(403);
  await runguard.addBinding({
    service: "orders-api",
    role: "roles/run.invoker",
    member: `serviceAccount:${caller.serviceAccount}`,
  });
  const answer = await callFromAToB();
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toMatchObject({ service: "orders-api" });
});
