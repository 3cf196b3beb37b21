// Serverless VPC Access v1: connectors. Creation is a long-running operation that is already done.
import { randomBytes } from "node:crypto";
import { connectorResource, createConnector, lastSegment } from "../../network/vpc.js";
import type { StoredConnector } from "../../network/vpc-types.js";
import { notFound } from "../../core/errors.js";
import { path, seg, type Route } from "../route.js";
import { auditAs } from "../audit-target.js";
import { inProject } from "../call-project.js";
import { connector } from "../wire/runguard.js";

const L = `/v1/projects/${seg("project")}/locations/${seg("region")}`;
const M = "google.cloud.vpcaccess.v1.VpcAccessService.";

function renderConnector(connector: StoredConnector) {
  return {
    name: connector.resource,
    network: lastSegment(connector.network),
    ...(connector.ipCidrRange ? { ipCidrRange: connector.ipCidrRange } : {}),
    ...(connector.subnet ? { subnet: { name: lastSegment(connector.subnet), projectId: connector.projectId } } : {}),
    state: "READY",
    minInstances: connector.minInstances,
    maxInstances: connector.maxInstances,
    minThroughput: connector.minInstances * 100,
    maxThroughput: connector.maxInstances * 100,
    machineType: "e2-micro",
  };
}

export const vpcAccessRoutes: Route[] = [
  {
    api: "vpcaccess",
    method: "POST",
    path: path(`${L}/connectors`),
    methodName: `${M}CreateConnector`,
    body: connector,
    mutates: true,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const region = call.params["region"] ?? "";
        const connector = await createConnector(
          call.platform,
          call.ctx,
          projectId,
          region,
          call.query.get("connectorId"),
          call.body,
        );
        return auditAs({ resourceName: connector.resource }, async () => {
          const operation = {
            name: `projects/${projectId}/locations/${region}/operations/${randomBytes(8).toString("hex")}`,
            metadata: {
              "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.OperationMetadata",
              method: `${M}CreateConnector`,
              target: connector.resource,
            },
            done: true,
            response: {
              "@type": "type.googleapis.com/google.cloud.vpcaccess.v1.Connector",
              ...renderConnector(connector),
            },
          };
          await call.platform.store.transact(async (tx) =>
            tx.put("setting", `operations/${operation.name}`, operation),
          );
          return operation;
        });
      }),
  },
  {
    api: "vpcaccess",
    method: "GET",
    path: path(`${L}/operations/${seg("operation")}`),
    methodName: "google.longrunning.Operations.GetOperation",
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const name = `projects/${projectId}/locations/${call.params["region"]}/operations/${call.params["operation"]}`;
        const operation = await call.platform.store.get("setting", `operations/${name}`);
        if (!operation) throw notFound(`Operation ${name} not found.`);
        return operation;
      }),
  },
  {
    api: "vpcaccess",
    method: "GET",
    path: path(`${L}/connectors`),
    methodName: `${M}ListConnectors`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        call.ctx.authorize("vpcaccess.connectors.list", `projects/${projectId}`);
        const all = await call.platform.store.list<StoredConnector>(
          "connector",
          `projects/${projectId}/locations/${call.params["region"]}/`,
        );
        return { connectors: all.map(renderConnector) };
      }),
  },
  {
    api: "vpcaccess",
    method: "GET",
    path: path(`${L}/connectors/${seg("connector")}`),
    methodName: `${M}GetConnector`,
    mutates: false,
    handle: (call) =>
      inProject(call, async ({ projectId }) => {
        const resource = connectorResource(projectId, call.params["region"] ?? "", call.params["connector"] ?? "");
        call.ctx.authorize("vpcaccess.connectors.get", `projects/${projectId}`, resource);
        const connector = await call.platform.store.get<StoredConnector>("connector", resource);
        if (!connector) throw notFound(`Connector ${resource} not found.`);
        return renderConnector(connector);
      }),
  },
];
