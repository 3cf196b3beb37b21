import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { routeInUrlMap } from "./routing.js";
import type { StoredUrlMap } from "./types.js";

const map: StoredUrlMap = {
  resource: "projects/p/global/urlMaps/m",
  projectId: "p",
  name: "m",
  id: "1",
  defaultService: "web",
  hostRules: [
    { hosts: ["site.test"], pathMatcher: "site" },
    { hosts: ["*.apps.test"], pathMatcher: "apps" },
  ],
  pathMatchers: [
    {
      name: "site",
      defaultService: "web",
      pathRules: [
        { paths: ["/api/*"], service: "api" },
        { paths: ["/api/admin/*"], service: "admin" },
        { paths: ["/health"], service: "health" },
      ],
    },
    { name: "apps", defaultService: "apps", pathRules: [] },
  ],
  fingerprint: "",
  creationTimestamp: "",
};

describe("URL map routing", () => {
  it("matches the host rule, then the longest path rule, then the matcher's default", () => {
    assert.equal(routeInUrlMap(map, "site.test", "/"), "web");
    assert.equal(routeInUrlMap(map, "site.test", "/api/orders"), "api");
    assert.equal(routeInUrlMap(map, "site.test", "/api"), "api");
    assert.equal(routeInUrlMap(map, "site.test", "/api/admin/users"), "admin");
    assert.equal(routeInUrlMap(map, "site.test", "/health"), "health");
    assert.equal(routeInUrlMap(map, "site.test", "/healthz"), "web");
    assert.equal(routeInUrlMap(map, "x.apps.test", "/api/x"), "apps");
    assert.equal(routeInUrlMap(map, "other.test", "/"), undefined);
  });
});
