// IAP's public keys (as www.gstatic.com/iap/verify/public_key-jwk serves them) and runguard's one-step URL map:
// a domain name routed to a backend service.
import { mapDomain } from "../../load-balancer/backend-services.js";
import type { IapSigner } from "../../tokens/iap-jwt.js";
import { invalidArgument } from "../../core/errors.js";
import { path, seg, type Route } from "../route.js";
import { inProject } from "../call-project.js";
import { mapDomainRequest } from "../wire/runguard.js";

export function createIapRoutes(signer: IapSigner): Route[] {
  return [
    {
      api: "runguard",
      method: "GET",
      path: path("/iap/verify/public_key-jwk"),
      methodName: "runguard.iap.PublicKeys",
      mutates: false,
      anonymous: true,
      handle: () => signer.jwks(),
    },
    {
      api: "runguard",
      method: "GET",
      path: path("/iap/verify/public_key"),
      methodName: "runguard.iap.PublicKeysPem",
      mutates: false,
      anonymous: true,
      handle: () => signer.pemKeys(),
    },
    {
      api: "runguard",
      method: "POST",
      path: path(`/runguard/v1/projects/${seg("project")}/loadBalancers`),
      methodName: "runguard.lb.MapDomain",
      body: mapDomainRequest,
      mutates: true,
      handle: (call) =>
        inProject(call, (project) => {
          const { domain, backendService } = call.body as { domain?: unknown; backendService?: unknown };
          if (typeof domain !== "string" || typeof backendService !== "string")
            throw invalidArgument("'domain' and 'backendService' are required.");
          return mapDomain(call.platform, call.ctx, project.projectId, domain, backendService);
        }),
    },
  ];
}
