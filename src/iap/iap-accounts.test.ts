// IAP answers who a user is from memory; a user seen for the first time keeps the id it was first given.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createMemoryStore } from "../store/memory-store.js";
import { ensureUser } from "../accounts/users.js";
import { openIapAccounts } from "./iap-accounts.js";

describe("IAP's account ids", () => {
  it("knows existing users, records new ones off the request path, and follows the change feed", async () => {
    const store = createMemoryStore();
    const known = await ensureUser({ store }, "alice@example.com");
    const accounts = await openIapAccounts(store);
    assert.equal(accounts.userId("Alice@example.com"), known.uniqueId);

    const carolId = accounts.userId("carol@example.com");
    assert.equal(accounts.userId("carol@example.com"), carolId, "the same id before the write lands");
    await accounts.flush();
    assert.equal((await store.get<{ uniqueId: string }>("user", "users/carol@example.com"))?.uniqueId, carolId);

    const name = "projects/p/serviceAccounts/service-1@gcp-sa-iap.iam.gserviceaccount.com";
    assert.equal(accounts.serviceAccountId(name), undefined);
    await store.transact(async (tx) => tx.put("serviceAccount", name, { uniqueId: "42" }));
    assert.equal(accounts.serviceAccountId(name), "42");
    await accounts.close();
  });
});
