// What a running runguard tells the CLI and clients about itself (DATA_DIR/endpoints.json). Apart from
// runguard.ts so that a CLI command can read it without loading everything `up` runs.
import { join } from "node:path";
import type { IsolationMode } from "../runtime/isolation.js";
import type { ConfinementReport } from "../runtime/confinement.js";

export interface Endpoints {
  api: string;
  loadBalancer: string;
  loadBalancerHttps: string;
  /** The file holding runguard's local CA (PEM), which signs the load balancer's certificates. */
  caCertificatePath: string;
  /** runguard's local CA followed by the system CAs, for clients that trust one bundle file. */
  caBundlePath: string;
  isolation: IsolationMode;
  /** What confines each instance here, and one line per protection this machine lacks. */
  confinement: ConfinementReport;
  /** "available", or why container images cannot run here (then only catalogue images do). */
  containers: string;
  frontEnd: string;
  projectId: string;
  projectNumber: string;
  region: string;
  ownerEmail: string;
}

export function endpointsFile(dataDir: string): string {
  return join(dataDir, "endpoints.json");
}
