// The demo `runguard up --demo` runs: real services behind the real front end, called the way clients call
// Cloud Run, each outcome checked against what Cloud Run would answer.
import { request } from "node:http";
import type { Runguard } from "../app/runguard.js";
import { ensureUser } from "../accounts/users.js";
import { mintAccessToken } from "../app/local-credentials.js";
import { HELLO_IMAGE } from "../run/images.js";

interface Step {
  what: string;
  expect: number;
  run(): Promise<number>;
}

function callFrontEnd(frontEnd: string, serviceUrl: string, headers: Record<string, string> = {}): Promise<number> {
  const front = new URL(frontEnd);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: front.hostname, port: front.port, path: "/", headers: { host: new URL(serviceUrl).host, ...headers } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end();
  });
}

async function controlPlane(
  rg: Runguard,
  method: string,
  path: string,
  body: unknown,
): Promise<Record<string, unknown>> {
  const owner = { kind: "user" as const, email: rg.platform.config.ownerEmail };
  const token = await mintAccessToken(rg.platform, owner);
  const response = await fetch(`${rg.endpoints.api}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  return (await response.json()) as Record<string, unknown>;
}

async function deployHello(rg: Runguard, name: string): Promise<string> {
  const project = rg.platform.config.projectId;
  const existing = await rg.platform.store.get(
    "service",
    `projects/${project}/locations/${rg.platform.config.region}/services/${name}`,
  );
  const body = {
    apiVersion: "serving.knative.dev/v1",
    kind: "Service",
    metadata: { name },
    spec: { template: { spec: { containers: [{ image: HELLO_IMAGE }] } } },
  };
  const base = `/apis/serving.knative.dev/v1/namespaces/${project}/services`;
  const service = existing
    ? await controlPlane(rg, "PUT", `${base}/${name}`, body)
    : await controlPlane(rg, "POST", base, body);
  const annotations = (service["metadata"] as { annotations: Record<string, string> }).annotations;
  return (JSON.parse(annotations["run.googleapis.com/urls"] ?? "[]") as string[])[0] ?? "";
}

export async function runDemo(rg: Runguard): Promise<boolean> {
  const { config } = rg.platform;
  const publicUrl = await deployHello(rg, "demo-public");
  const privateUrl = await deployHello(rg, "demo-private");
  await controlPlane(
    rg,
    "POST",
    `/v1/projects/${config.projectId}/locations/${config.region}/services/demo-public:setIamPolicy`,
    {
      policy: { bindings: [{ role: "roles/run.invoker", members: ["allUsers"] }] },
    },
  );
  const idToken = async (email: string, audience: string) => {
    const user = await ensureUser(rg.platform, email);
    return rg.platform.tokens.signIdToken({
      principal: { kind: "user", email },
      uniqueId: user.uniqueId,
      audience,
      includeEmail: true,
    });
  };
  const call = (url: string, token?: string) =>
    callFrontEnd(rg.endpoints.frontEnd, url, token ? { authorization: `Bearer ${token}` } : {});
  const steps: Step[] = [
    { what: "public service, no token", expect: 200, run: () => call(publicUrl) },
    { what: "private service, no token", expect: 403, run: () => call(privateUrl) },
    { what: "private service, garbage token", expect: 401, run: () => call(privateUrl, "garbage") },
    {
      what: "private service, token for another audience",
      expect: 401,
      run: async () => call(privateUrl, await idToken(config.ownerEmail, "https://elsewhere.example")),
    },
    {
      what: "private service, alice (no run.invoker)",
      expect: 403,
      run: async () => call(privateUrl, await idToken("alice@example.com", privateUrl)),
    },
    {
      what: `private service, owner ${config.ownerEmail}`,
      expect: 200,
      run: async () => call(privateUrl, await idToken(config.ownerEmail, privateUrl)),
    },
  ];
  console.log(`\nDemo: ${publicUrl} (public) and ${privateUrl} (private)`);
  let allAsExpected = true;
  for (const step of steps) {
    const status = await step.run();
    const ok = status === step.expect;
    allAsExpected &&= ok;
    console.log(`  ${ok ? "✔" : "✘"} ${step.what.padEnd(50)} → ${status} (Cloud Run: ${step.expect})`);
  }
  return allAsExpected;
}
