// The control-plane routes that need nothing but the platform, in matching order (runguard.ts adds the rest).
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

export const allRoutes: readonly Route[] = [
  ...runRoutes,
  ...runV2Routes,
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
  // Last: what no emulated route answers.
  ...notEmulatedRoutes,
];
