// @google-cloud/secret-manager, inside a real instance, reads a secret as the instance's service account
// (credentials from the metadata server). The default compute account holds roles/editor, which does NOT
// include secretmanager.versions.access, so it is refused until the accessor role is granted.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { PROJECT, startTestRunguard, type TestRunguard } from "../helpers/runguard-instance.js";
import { deploy } from "../helpers/deploy.js";
import { invokeUrl } from "../helpers/invoke.js";
import { addImage } from "../../src/run/images.js";

describe("@google-cloud/secret-manager inside an instance", () => {
  let rg: TestRunguard;
  let url: string;
  const api = async (method: string, path: string, body?: unknown) => {
    const token = await rg.accessTokenFor(`user:${rg.platform.config.ownerEmail}`);
    const response = await fetch(`${rg.endpoints.api}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    assert.ok(response.ok, await response.clone().text());
  };
  const read = async () =>
    JSON.parse(
      (
        await invokeUrl(rg.endpoints.frontEnd, url, {
          path: `/?name=projects/${PROJECT}/secrets/api-key/versions/latest`,
        })
      ).body,
    ) as { ok: boolean; code?: number; value?: string };

  before(async () => {
    rg = await startTestRunguard();
    const dir = fileURLToPath(new URL("../../../examples/secret-reader-node/", import.meta.url));
    await addImage(rg.platform.store, "gcr.io/runguard-tests/secret-reader", dir, [process.execPath, "server.mjs"]);
    await api("POST", `/v1/projects/${PROJECT}/secrets?secretId=api-key`, { replication: { automatic: {} } });
    await api("POST", `/v1/projects/${PROJECT}/secrets/api-key:addVersion`, {
      payload: { data: Buffer.from("sk-live-123").toString("base64") },
    });
    [url] = (await deploy(rg, "reader", { image: "gcr.io/runguard-tests/secret-reader", public: true })) as [string];
  });
  after(async () => rg.stop());

  it("is refused for the default compute account (roles/editor cannot read payloads), allowed once granted", async () => {
    assert.deepEqual(await read().then((r) => [r.ok, r.code]), [false, 403]);
    const compute = `serviceAccount:${rg.endpoints.projectNumber}-compute@developer.gserviceaccount.com`;
    await api("POST", `/v1/projects/${PROJECT}/secrets/api-key:setIamPolicy`, {
      policy: { bindings: [{ role: "roles/secretmanager.secretAccessor", members: [compute] }] },
    });
    const allowed = await read();
    assert.equal(allowed.ok, true);
    assert.equal(allowed.value, "sk-live-123");
  });
});
