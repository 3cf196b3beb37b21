// Deploys services through runguard's own Run Admin API (the same calls gcloud makes, without gcloud's
// start-up cost), for tests whose subject is the data plane.
import { fileURLToPath } from "node:url";
import { addImage } from "../../src/run/images.js";
import { OWNER, PROJECT, type TestRunguard } from "./runguard-instance.js";

export const ECHO_IMAGE = "gcr.io/runguard-tests/echo";
export const FAIL_IMAGE = "gcr.io/runguard-tests/fail-start";
export const FETCHER_IMAGE = "gcr.io/runguard-tests/fetcher";

export async function registerTestImages(rg: TestRunguard): Promise<void> {
  const dir = fileURLToPath(new URL("../../../test/fixtures/apps/", import.meta.url));
  await addImage(rg.platform.store, ECHO_IMAGE, dir, [process.execPath, "echo.mjs"]);
  await addImage(rg.platform.store, FAIL_IMAGE, dir, [process.execPath, "fail-start.mjs"]);
  await addImage(rg.platform.store, FETCHER_IMAGE, dir, [process.execPath, "fetcher.mjs"]);
}

export interface DeployOptions {
  image?: string;
  public?: boolean;
  serviceAccount?: string;
  env?: Record<string, string>;
  annotations?: Record<string, string>;
  templateAnnotations?: Record<string, string>;
  concurrency?: number;
  /** The request timeout (Cloud Run's --timeout). */
  timeoutSeconds?: number;
  as?: string;
  /** Secrets mounted as files: each secret's latest version at <mountPath>/<secret>. */
  secretVolumes?: Array<{ mountPath: string; secret: string }>;
}

async function api(rg: TestRunguard, as: string, method: string, path: string, body?: unknown) {
  const token = await rg.accessTokenFor(as);
  const response = await fetch(`${rg.endpoints.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const json = (await response.json()) as Record<string, unknown>;
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(json)}`);
  return json;
}

/** Creates or replaces the service; returns its URLs (deterministic first). */
export async function deploy(rg: TestRunguard, name: string, options: DeployOptions = {}): Promise<string[]> {
  const as = options.as ?? `user:${OWNER}`;
  const body = {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    metadata: { name, namespace: PROJECT, annotations: options.annotations ?? {} },
    spec: {
      template: {
        metadata: { annotations: options.templateAnnotations ?? {} },
        spec: {
          ...(options.concurrency ? { containerConcurrency: options.concurrency } : {}),
          ...(options.timeoutSeconds ? { timeoutSeconds: options.timeoutSeconds } : {}),
          ...(options.serviceAccount ? { serviceAccountName: options.serviceAccount } : {}),
          containers: [
            {
              image: options.image ?? ECHO_IMAGE,
              env: Object.entries(options.env ?? {}).map(([k, v]) => ({ name: k, value: v })),
              ...(options.secretVolumes
                ? { volumeMounts: options.secretVolumes.map((v) => ({ name: v.secret, mountPath: v.mountPath })) }
                : {}),
            },
          ],
          ...(options.secretVolumes
            ? { volumes: options.secretVolumes.map((v) => ({ name: v.secret, secret: { secretName: v.secret } })) }
            : {}),
        },
      },
    },
  };
  const base = `/apis/serving.knative.dev/v1/namespaces/${PROJECT}/services`;
  const existing = await rg.platform.store.get("service", `projects/${PROJECT}/locations/us-central1/services/${name}`);
  const result = existing ? await api(rg, as, "PUT", `${base}/${name}`, body) : await api(rg, as, "POST", base, body);
  if (options.public) await setInvokers(rg, name, ["allUsers"]);
  const annotations = (result["metadata"] as { annotations: Record<string, string> }).annotations;
  return JSON.parse(annotations["run.googleapis.com/urls"] ?? "[]") as string[];
}

export async function setInvokers(rg: TestRunguard, name: string, members: string[]): Promise<void> {
  const path = `/v1/projects/${PROJECT}/locations/us-central1/services/${name}`;
  await api(rg, `user:${OWNER}`, "POST", `${path}:setIamPolicy`, {
    policy: members.length > 0 ? { bindings: [{ role: "roles/run.invoker", members }] } : {},
  });
}
