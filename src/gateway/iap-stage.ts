// The front end's IAP stage, as data like the invoker check: IAP either lets a request through, vouching for
// its caller, or answers it itself (a sign-in redirect, its 401 and 403 pages, its own paths). iap/ implements it.
import type { IncomingMessage } from "node:http";
import type { LoadBalancerRoute, RoutedService } from "./directory.js";

export type IapVerdict =
  | {
      pass: true;
      /** The X-Serverless-Authorization IAP calls the service with (its service agent's ID token). */
      serverlessAuthorization: string;
      /** The Cookie header without IAP's own cookies; undefined when nothing else is left. */
      cookie: string | undefined;
      /** The identity headers IAP vouches for (the signed assertion, the user's email and id). */
      identityHeaders: Readonly<Record<string, string>>;
    }
  | {
      pass: false;
      answer: IapAnswer;
      /** Why IAP refused, in words, for whoever watches requests live; absent for sign-in steps. */
      refusal?: { reason: string; principalEmail?: string };
    };

/** A response IAP gives itself, written as is. */
export interface IapAnswer {
  status: number;
  headers: Readonly<Record<string, string | string[]>>;
  /** No body at all (not even an empty chunk) when undefined. */
  body?: string;
}

export interface IapStage {
  /**
   * IAP in front of `service`: on the backend service the load balancer routed through, and on the service
   * itself, whichever have it on (protects() says whether any does).
   */
  check(
    req: IncomingMessage,
    service: RoutedService,
    backend: LoadBalancerRoute["backend"] | undefined,
  ): Promise<IapVerdict>;
}

/** Whether IAP stands in front of this request at all. */
export function iapProtects(service: RoutedService, backend: LoadBalancerRoute["backend"] | undefined): boolean {
  return service.iapEnabled || backend?.iap.enabled === true;
}
