// The declared state of a project (`runguard.yaml`): one zod schema, so a bad file is refused with the field
// that is wrong, and the types the rest of the module works with. docs/declarative.md is its reference.
import { z } from "zod";
import { invalidArgument } from "../core/errors.js";
import { isExportedService, type ExportedService } from "../run/knative-export.js";

const expr = z.strictObject({
  expression: z.string(),
  title: z.string().optional(),
  description: z.string().optional(),
  location: z.string().optional(),
});

const binding = z.strictObject({
  role: z.string().min(1),
  members: z.array(z.string().min(1)).min(1),
  condition: expr.optional(),
});

/** A policy as `get-iam-policy --format=json` prints it; etag and version are accepted and ignored. */
const policy = z.object({
  version: z.number().int().optional(),
  etag: z.string().optional(),
  bindings: z.array(binding).default([]),
});

const serviceAccount = z.strictObject({
  /** The account id (`orders-sa`) or its whole email. */
  name: z.string().min(1),
  displayName: z.string().optional(),
  description: z.string().optional(),
  iamPolicy: policy.optional(),
});

const secret = z.strictObject({
  name: z.string().min(1),
  /** A local file holding the value, relative to the state file. Without it, a generated placeholder. */
  valueFile: z.string().min(1).optional(),
  /** The value itself: for programs that build a state (the npm API); `runguard export` never writes it. */
  value: z.string().min(1).optional(),
  labels: z.record(z.string(), z.string()).optional(),
  iamPolicy: policy.optional(),
});

const group = z.strictObject({
  email: z.string().min(3),
  displayName: z.string().optional(),
  members: z.array(z.string().min(1)).default([]),
});

const subnet = z.strictObject({
  name: z.string().min(1),
  region: z.string().optional(),
  ipCidrRange: z.string().min(1),
  privateIpGoogleAccess: z.boolean().optional(),
});

const network = z.strictObject({ name: z.string().min(1), subnets: z.array(subnet).default([]) });

const connector = z.strictObject({
  name: z.string().min(1),
  region: z.string().optional(),
  network: z.string().optional(),
  ipCidrRange: z.string().optional(),
  subnet: z.string().optional(),
});

const address = z.strictObject({
  network: z.string().min(1),
  /** The private address and port inside the network, e.g. 10.8.0.5:5432. */
  address: z.string().min(1),
  /** The loopback endpoint that answers for it, e.g. 127.0.0.1:5432. */
  to: z.string().min(1),
  description: z.string().optional(),
});

const knativeService = z.custom<ExportedService>(isExportedService, {
  message: "expected a Knative Service (kind: Service, metadata.name, spec.template), as gcloud exports it",
});

/** A service entry: `file:` naming a Knative YAML, `service:` holding one inline, or the Knative object itself. */
const serviceEntry = z.union(
  [
    z.strictObject({
      file: z.string().min(1),
      iamPolicy: policy.optional(),
      iamPolicyFile: z.string().min(1).optional(),
    }),
    z.strictObject({
      service: knativeService,
      iamPolicy: policy.optional(),
      iamPolicyFile: z.string().min(1).optional(),
    }),
    knativeService,
  ],
  {
    error:
      "a service is `file: PATH`, `service: KNATIVE_SERVICE` (each with an optional iamPolicy or iamPolicyFile), or a Knative Service itself (kind: Service, metadata.name, spec.template)",
  },
);

export const stateFileSchema = z.strictObject({
  /** The project the file describes; another local project id is mapped onto the local one. */
  project: z.string().optional(),
  projectNumber: z.union([z.string(), z.number()]).optional(),
  /** The region of services whose YAML names none. */
  region: z.string().optional(),
  users: z.array(z.string().min(3)).default([]),
  groups: z.array(group).default([]),
  serviceAccounts: z.array(serviceAccount).default([]),
  /** Bindings on the project's policy: added to it, never removed from it. */
  iam: z.strictObject({ bindings: z.array(binding).default([]) }).optional(),
  secrets: z.array(secret).default([]),
  vpc: z
    .strictObject({
      networks: z.array(network).default([]),
      connectors: z.array(connector).default([]),
      addresses: z.array(address).default([]),
    })
    .optional(),
  services: z.array(serviceEntry).default([]),
});

export type StateFile = z.infer<typeof stateFileSchema>;
export type DeclaredPolicy = z.infer<typeof policy>;
export type DeclaredBinding = z.infer<typeof binding>;
export type DeclaredServiceAccount = z.infer<typeof serviceAccount>;
export type DeclaredSecret = z.infer<typeof secret>;
export type DeclaredGroup = z.infer<typeof group>;
export type DeclaredNetwork = z.infer<typeof network>;
export type DeclaredConnector = z.infer<typeof connector>;
export type DeclaredAddress = z.infer<typeof address>;

export interface DeclaredService {
  /** The Knative Service, as `gcloud run services describe --format=export` writes it. */
  service: ExportedService;
  /** Its IAM policy (`gcloud run services get-iam-policy --format=json`); absent: left as it is. */
  iamPolicy?: DeclaredPolicy;
}

/**
 * A project's declared state, resolved: every `file:` read, every path absolute. What `loadState` returns,
 * `exportState` builds and `applyState` makes true.
 */
export interface DeclaredState {
  project?: string;
  projectNumber?: string;
  region?: string;
  users: string[];
  groups: DeclaredGroup[];
  serviceAccounts: DeclaredServiceAccount[];
  iam: { bindings: DeclaredBinding[] };
  secrets: DeclaredSecret[];
  vpc: { networks: DeclaredNetwork[]; connectors: DeclaredConnector[]; addresses: DeclaredAddress[] };
  services: DeclaredService[];
}

export function emptyState(): DeclaredState {
  return {
    users: [],
    groups: [],
    serviceAccounts: [],
    iam: { bindings: [] },
    secrets: [],
    vpc: { networks: [], connectors: [], addresses: [] },
    services: [],
  };
}

/** Where in the file a zod issue is: `services[1].file`, in the terms a user reads. */
function issuePath(path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : text ? `${text}.${String(key)}` : String(key)),
    "",
  );
}

/** Validates a parsed state file; a wrong one is INVALID_ARGUMENT naming the file and each field at fault. */
export function parseStateFile(value: unknown, source: string): StateFile {
  const parsed = stateFileSchema.safeParse(value ?? {});
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 5).map((issue) => {
    const where = issuePath(issue.path);
    return `${where || "(top level)"}: ${issue.message}`;
  });
  throw invalidArgument(`${source}: ${issues.join("; ")}`);
}
