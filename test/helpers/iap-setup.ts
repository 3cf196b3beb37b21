// The seed's IAP procedure with the real gcloud, as one step for tests whose subject comes after it: a private
// service behind a serverless NEG and a backend service with IAP on, the IAP service agent provisioned and
// allowed to invoke, a domain mapped to the backend service.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { gcloud } from "./gcloud.js";
import { OWNER, PROJECT, type TestRunguard } from "./runguard-instance.js";
import { addImage } from "../../src/run/images.js";
import type { StoredBackendService } from "../../src/load-balancer/types.js";
import type { InvokeResult } from "./invoke.js";

export const IAP_APP_IMAGE = "gcr.io/runguard-examples/iap-app";

export interface IapSetup {
  env: Record<string, string>;
  backend: StoredBackendService;
  /** The audience of IAP's signed header for the backend service. */
  assertionAudience: string;
}

/** `runguard lb map`: the domain goes to the backend service on the load balancer's listeners. */
export async function mapDomain(rg: TestRunguard, domain: string, backendService: string): Promise<void> {
  const token = await rg.accessTokenFor(`user:${OWNER}`);
  const mapped = await fetch(`${rg.endpoints.api}/runguard/v1/projects/${PROJECT}/loadBalancers`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ domain, backendService }),
  });
  assert.equal(mapped.status, 200, await mapped.text());
}

/**
 * IAP's refusals for alice before she holds the role, the same behind a load balancer and on a service itself:
 * an XHR caller without credentials gets 401, a token for the service URL 401 "Invalid JWT audience", a token for
 * IAP's OAuth client 403.
 */
export async function assertIapRefusesAlice(
  call: (headers?: Record<string, string>) => Promise<InvokeResult>,
  idToken: (email: string, audience: string) => Promise<string>,
  clientId: string,
  serviceUrl: string,
): Promise<void> {
  const xhr = await call({ "x-requested-with": "XMLHttpRequest" });
  assert.equal(xhr.status, 401, "XHR callers get 401 instead of a redirect");
  assert.equal(xhr.body, "Invalid IAP credentials: empty token");
  const wrongAudience = await call({ authorization: `Bearer ${await idToken("alice@example.com", serviceUrl)}` });
  assert.equal(wrongAudience.status, 401);
  assert.equal(wrongAudience.body, "Invalid JWT audience");
  const noRole = await call({ authorization: `Bearer ${await idToken("alice@example.com", clientId)}` });
  assert.equal(noRole.status, 403);
  assert.match(noRole.body, /You don't have access/);
}

export async function setUpIapApp(rg: TestRunguard, domain: string): Promise<IapSetup> {
  const env = await rg.gcloudEnvFor();
  const g = async (args: string[]) => {
    const result = await gcloud(env, args);
    assert.equal(result.code, 0, `${args.join(" ")}\n${result.stderr}`);
    return result;
  };
  const R = "--region=us-central1";
  const dir = fileURLToPath(new URL("../../../examples/iap-app/", import.meta.url));
  await addImage(rg.platform.store, IAP_APP_IMAGE, dir, [process.execPath, "server.mjs"]);
  await g([
    "compute",
    "network-endpoint-groups",
    "create",
    "app-neg",
    R,
    "--network-endpoint-type=serverless",
    "--cloud-run-service=iap-app",
  ]);
  await g([
    "compute",
    "backend-services",
    "create",
    "app-backend",
    "--global",
    "--load-balancing-scheme=EXTERNAL_MANAGED",
  ]);
  await g([
    "compute",
    "backend-services",
    "add-backend",
    "app-backend",
    "--global",
    "--network-endpoint-group=app-neg",
    "--network-endpoint-group-region=us-central1",
  ]);
  await g(["compute", "backend-services", "update", "app-backend", "--global", "--iap=enabled"]);
  const id = (
    await g(["compute", "backend-services", "describe", "app-backend", "--global", "--format=value(id)"])
  ).stdout.trim();
  const assertionAudience = `/projects/${rg.endpoints.projectNumber}/global/backendServices/${id}`;
  await g([
    "run",
    "deploy",
    "iap-app",
    `--image=${IAP_APP_IMAGE}`,
    R,
    "--no-allow-unauthenticated",
    "--ingress=internal-and-cloud-load-balancing",
    `--set-env-vars=IAP_AUDIENCE=${assertionAudience}`,
  ]);
  await g(["beta", "services", "identity", "create", "--service=iap.googleapis.com", `--project=${PROJECT}`]);
  const agent = `service-${rg.endpoints.projectNumber}@gcp-sa-iap.iam.gserviceaccount.com`;
  await g([
    "run",
    "services",
    "add-iam-policy-binding",
    "iap-app",
    R,
    `--member=serviceAccount:${agent}`,
    "--role=roles/run.invoker",
  ]);
  await mapDomain(rg, domain, "app-backend");
  const backend = await rg.platform.store.get<StoredBackendService>(
    "backendService",
    `projects/${PROJECT}/global/backendServices/app-backend`,
  );
  assert.ok(backend);
  return { env, backend, assertionAudience };
}
