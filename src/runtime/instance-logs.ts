// Instance stdout/stderr become the service's log (run.googleapis.com%2Fstdout / %2Fstderr), in batches.
import { randomBytes } from "node:crypto";
import type { Store } from "../store/store.js";
import { createLogBatcher } from "../audit/log-batcher.js";
import type { StoredRevision } from "../run/types.js";

export interface InstanceLogWriter {
  write(revision: StoredRevision, instanceId: string, stream: "stdout" | "stderr", line: string): void;
  close(): Promise<void>;
}

export function createInstanceLogWriter(store: Store): InstanceLogWriter {
  const batcher = createLogBatcher(store);
  return {
    write(revision, instanceId, stream, line) {
      const timestamp = new Date().toISOString();
      const logName = `projects/${revision.projectId}/logs/run.googleapis.com%2F${stream}`;
      batcher.enqueue({
        timestamp,
        logName,
        entry: {
          logName,
          textPayload: line,
          timestamp,
          receiveTimestamp: timestamp,
          severity: stream === "stderr" ? "ERROR" : "INFO",
          insertId: randomBytes(8).toString("hex"),
          labels: { instanceId },
          resource: {
            type: "cloud_run_revision",
            labels: {
              project_id: revision.projectId,
              service_name: revision.service,
              revision_name: revision.name,
              location: revision.region,
              configuration_name: revision.service,
            },
          },
        },
      });
    },
    close: () => batcher.close(),
  };
}
