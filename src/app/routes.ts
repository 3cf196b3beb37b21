// Every control-plane route, in matching order: the one list the control plane serves. Routes that need
// more than the platform take what they use here.
import type { Route } from "../control-plane/route.js";
import { iamRoutes } from "../control-plane/apis/iam.js";
import { iamCredentialsRoutes } from "../control-plane/apis/iamcredentials.js";
import { resourceManagerRoutes } from "../control-plane/apis/resourcemanager.js";
import { serviceUsageRoutes } from "../control-plane/apis/serviceusage.js";
import { adminRoutes } from "../control-plane/apis/admin.js";
import { runRoutes } from "../control-plane/apis/run.js";
import { runV2Routes } from "../control-plane/apis/run-v2.js";
import { secretManagerRoutes } from "../control-plane/apis/secretmanager.js";
import { computeRoutes } from "../control-plane/apis/compute.js";
import { computeLoadBalancerRoutes } from "../control-plane/apis/compute-lb.js";
import { computeFrontendRoutes } from "../control-plane/apis/compute-frontends.js";
import { vpcAccessRoutes } from "../control-plane/apis/vpcaccess.js";
import { iapRoutes } from "../control-plane/apis/iap.js";
import { notEmulatedRoutes } from "../control-plane/apis/not-emulated.js";
import { artifactRegistryRoutes } from "../control-plane/apis/artifactregistry.js";
import { cloudBuildRoutes } from "../control-plane/apis/cloudbuild.js";
import { runBuildRoutes } from "../control-plane/apis/run-builds.js";
import { loggingRoutes } from "../control-plane/apis/logging.js";
import { storageRoutes } from "../control-plane/apis/storage.js";
import { createOauthRoutes } from "../control-plane/apis/oauth.js";
import { createSignInRoutes } from "../control-plane/apis/signin.js";
import { createNetworkAdminRoutes } from "../control-plane/apis/network-admin.js";
import { createIapRoutes } from "../control-plane/apis/iap-admin.js";
import type { AuthorizationCodes } from "../signin/authorization-codes.js";
import type { ClientDirectory } from "../signin/clients.js";
import type { SignInThrottle } from "../signin/sign-in-throttle.js";
import type { VpcGateway } from "../egress/vpc-gateway.js";
import type { LocalCa } from "../network/local-ca.js";
import type { IapSigner } from "../tokens/iap-jwt.js";

export interface RouteDeps {
  /** The authorization codes runguard's sign-in issues and the token endpoint redeems. */
  codes: AuthorizationCodes;
  clients: ClientDirectory;
  signInThrottle: SignInThrottle;
  gateway: VpcGateway;
  ca: LocalCa;
  iapSigner: IapSigner;
}

export function controlPlaneRoutes(deps: RouteDeps): Route[] {
  return [
    ...runRoutes,
    ...runV2Routes,
    ...runBuildRoutes,
    ...artifactRegistryRoutes,
    ...cloudBuildRoutes,
    ...storageRoutes,
    ...secretManagerRoutes,
    ...computeRoutes,
    ...computeLoadBalancerRoutes,
    ...computeFrontendRoutes,
    ...vpcAccessRoutes,
    ...iapRoutes,
    ...iamCredentialsRoutes,
    ...iamRoutes,
    ...resourceManagerRoutes,
    ...serviceUsageRoutes,
    ...adminRoutes,
    ...loggingRoutes,
    ...createOauthRoutes(deps.codes),
    ...createSignInRoutes(deps.codes, deps.clients, deps.signInThrottle),
    ...createNetworkAdminRoutes(deps.gateway, deps.ca),
    ...createIapRoutes(deps.iapSigner),
    // Last: what no emulated route answers.
    ...notEmulatedRoutes,
  ];
}
