// The load balancer's routes come from the directory's memory, kept current by the store's change feed.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createMemoryStore } from "../store/memory-store.js";
import { createServiceDirectory, hostOf } from "./directory.js";
import type { StoredService } from "../run/types.js";

describe("service directory", () => {
  it("hostOf drops a trailing port and lower-cases", () => {
    assert.equal(hostOf("App.Example.COM:8080"), "app.example.com");
    assert.equal(hostOf("[::1]:80"), "[::1]");
    assert.equal(hostOf("[::1]"), "[::1]");
    assert.equal(hostOf("host:"), "host:");
    assert.equal(hostOf(undefined), "");
  });

  it("routes a mapped domain to its backend service and Cloud Run service, and forgets a deleted mapping", async () => {
    const store = createMemoryStore();
    const directory = await createServiceDirectory(store);
    const service = {
      resource: "projects/p/locations/r/services/app",
      projectId: "p",
      region: "r",
      name: "app",
      annotations: {},
      template: { spec: {} },
    } as unknown as StoredService;
    const backend = {
      resource: "projects/p/global/backendServices/b",
      projectId: "p",
      name: "b",
      id: "7",
      backends: ["projects/p/regions/r/networkEndpointGroups/n"],
      iap: { enabled: true, oauth2ClientId: "c" },
    };
    await store.transact(async (tx) => {
      tx.put("project", "projects/p", { projectId: "p", projectNumber: "1" });
      tx.put("networkEndpointGroup", backend.backends[0] as string, {
        resource: backend.backends[0],
        projectId: "p",
        region: "r",
        cloudRunService: "app",
      });
      tx.put("backendService", backend.resource, backend);
      tx.put("loadBalancer", "projects/p/global/loadBalancers/x", {
        resource: "projects/p/global/loadBalancers/x",
        domain: "app.example.com",
        backendService: backend.resource,
      });
    });
    directory.close();
    // A directory opened now loads everything; the change feed then keeps it current.
    const loaded = await createServiceDirectory(store);
    assert.equal(loaded.loadBalancerRoute("HTTP", "app.example.com", "/"), undefined, "no Cloud Run service yet");
    await store.transact(async (tx) => tx.put("service", service.resource, service));
    const route = loaded.loadBalancerRoute("HTTPS", "app.example.com", "/x");
    assert.equal(route?.backend.id, "7");
    assert.equal(route?.service.resource, service.resource);
    assert.equal(loaded.loadBalancerRoute("HTTP", "other.example.com", "/"), undefined);
    await store.transact(async (tx) => tx.delete("loadBalancer", "projects/p/global/loadBalancers/x"));
    assert.equal(loaded.loadBalancerRoute("HTTP", "app.example.com", "/"), undefined);
    loaded.close();
  });
});
