// IAM decision benchmark: a synthetic project with 10,000 bindings, 1,000 principals and 100 groups (some
// nested), spread over 500 services and the project. Throughput is measured over 2M warm decisions; latency
// percentiles from blocks of 100 decisions timed with hrtime (a single decision is below timer resolution),
// each block's time divided by 100.
import { createPolicyEngine } from "../src/iam/engine.js";
import type { Binding, Principal } from "../src/iam/types.js";

const ROLES = [
  "roles/run.invoker",
  "roles/run.viewer",
  "roles/run.developer",
  "roles/secretmanager.secretAccessor",
  "roles/iam.serviceAccountUser",
  "roles/cloudsql.client",
];
const PERMISSIONS = [
  "run.routes.invoke",
  "run.services.get",
  "secretmanager.versions.access",
  "iam.serviceAccounts.actAs",
  "run.services.update",
];

export interface IamBenchResult {
  bindings: number;
  principals: number;
  groups: number;
  decisionsPerSecond: number;
  p50Us: number;
  p99Us: number;
  allowedShare: number;
}

function random(seed: number) {
  let s = seed;
  return () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
}

export function runIamDecisionBench(): IamBenchResult {
  const rand = random(42);
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)] as T;
  const engine = createPolicyEngine();
  const principals: Principal[] = Array.from({ length: 1000 }, (_, i) =>
    i % 2 === 0
      ? { kind: "user", email: `user${i}@example.com` }
      : { kind: "serviceAccount", email: `sa${i}@p.iam.gserviceaccount.com` },
  );
  const members = principals.map((p) => (p.kind === "anonymous" ? "allUsers" : `${p.kind}:${p.email}`));
  for (let g = 0; g < 100; g++) {
    const groupMembers = Array.from({ length: 20 }, () => pick(members));
    if (g > 0 && g % 10 === 0) groupMembers.push(`group:group${g - 1}@example.com`);
    engine.setGroup(`group${g}@example.com`, { email: `group${g}@example.com`, members: groupMembers });
  }
  const resources = Array.from({ length: 500 }, (_, i) => `projects/p/locations/us-central1/services/svc${i}`);
  const perResource = new Map<string, Binding[]>();
  let bindings = 0;
  for (let b = 0; b < 10_000; b++) {
    const resource = b % 50 === 0 ? "projects/p" : pick(resources);
    const member = rand() < 0.2 ? `group:group${Math.floor(rand() * 100)}@example.com` : pick(members);
    const list = perResource.get(resource) ?? [];
    list.push({ role: pick(ROLES), members: [member] });
    perResource.set(resource, list);
    bindings++;
  }
  for (const [resource, list] of perResource) engine.setPolicy(resource, { version: 1, bindings: list });

  const queries = Array.from({ length: 4096 }, () => ({
    principal: pick(principals),
    permission: pick(PERMISSIONS),
    resource: pick(resources),
  }));
  let allowed = 0;
  for (let i = 0; i < 200_000; i++) {
    const q = queries[i & 4095]!;
    if (engine.decide(q.principal, q.permission, q.resource).allowed) allowed++;
  }
  const total = 2_000_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < total; i++) {
    const q = queries[i & 4095]!;
    engine.decide(q.principal, q.permission, q.resource);
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const samples: number[] = [];
  for (let block = 0; block < 20_000; block++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < 100; i++) {
      const q = queries[(block * 100 + i) & 4095]!;
      engine.decide(q.principal, q.permission, q.resource);
    }
    samples.push(Number(process.hrtime.bigint() - t0) / 100 / 1000);
  }
  samples.sort((a, b) => a - b);
  return {
    bindings,
    principals: principals.length,
    groups: 100,
    decisionsPerSecond: Math.round(total / seconds),
    p50Us: samples[Math.floor(samples.length * 0.5)]!,
    p99Us: samples[Math.floor(samples.length * 0.99)]!,
    allowedShare: allowed / 200_000,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) console.log(runIamDecisionBench());
