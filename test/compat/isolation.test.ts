// With a network namespace per instance (the isolation mode wherever the machine allows it, CI included),
// egress rules hold for every protocol, not only for clients that honour proxy variables, and apps that
// hard-code port 8080 run side by side.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy, FETCHER_IMAGE, registerTestImages } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { addImage } from "../../src/run/images.js";

describe("instance isolation", () => {
  let rg: TestRunguard;
  let fetcher: string;
  const ask = async (path: string) =>
    JSON.parse((await invokeUrl(rg.endpoints.frontEnd, fetcher, { path })).body) as {
      connected?: boolean;
      error?: string;
    };

  before(async () => {
    rg = await startTestRunguard();
    await registerTestImages(rg);
    const flask = fileURLToPath(new URL("../../../examples/flask-echo/", import.meta.url));
    await addImage(rg.platform.store, "gcr.io/runguard-tests/flask-echo", flask, ["/usr/bin/python3", "app.py"], 8080);
    [fetcher] = (await deploy(rg, "fetcher", { image: FETCHER_IMAGE, public: true })) as [string];
  });
  after(async () => rg.stop());

  it("runs in its own network namespace here", () => {
    assert.equal(rg.endpoints.isolation, "netns", "this machine allows network namespaces, so runguard must use them");
  });

  it("a raw TCP connection to a private address has no route, proxy variables or not", async () => {
    const result = await ask("/?tcp=10.8.0.5:5432");
    assert.equal(result.connected, undefined);
    assert.match(result.error ?? "", /ENETUNREACH|EHOSTUNREACH|ETIMEDOUT/);
  });

  it("the host's loopback services (runguard's own API) are out of reach", async () => {
    const port = new URL(rg.endpoints.api).port;
    const result = await ask(`/?tcp=127.0.0.1:${port}`);
    assert.equal(result.error, "ECONNREFUSED");
  });

  it("two services whose apps both hard-code port 8080 run side by side", async () => {
    const [a] = (await deploy(rg, "flask-a", { image: "gcr.io/runguard-tests/flask-echo", public: true })) as [string];
    const [b] = (await deploy(rg, "flask-b", { image: "gcr.io/runguard-tests/flask-echo", public: true })) as [string];
    const [ra, rb] = await Promise.all(
      [a, b].map((url) => invokeUrl(rg.endpoints.frontEnd, url, { body: "hi", headers: { "content-length": "2" } })),
    );
    assert.equal(ra?.body, "Hello! You sent: hi");
    assert.equal(rb?.body, "Hello! You sent: hi");
  });
});
