// Runs inside `runguard exec`: RUNGUARD_LOCAL_URL_<SERVICE> reaches each service of runguard.yaml on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";

test("orders-api refuses a caller without a token, as Cloud Run does", async () => {
  const response = await fetch(`${process.env.RUNGUARD_LOCAL_URL_ORDERS_API}/`);
  assert.equal(response.status, 403);
});

test("web is public", async () => {
  const response = await fetch(`${process.env.RUNGUARD_LOCAL_URL_WEB}/`);
  assert.equal(response.status, 200);
});
