// Every way out of one instance, all deciding by the same policy (egress-policy.ts): the egress proxy its
// HTTP(S)_PROXY names, the Google API virtual address its DNS resolves Google's and Cloud Run's names to (netns),
// and a raw TCP relay for each private address its VPC access reaches (netns).
import type { LocalCa } from "../network/local-ca.js";
import { createEgressProxy, type EgressProxy } from "./egress-proxy.js";
import { decideEgress, type EgressContext } from "./egress-policy.js";
import { createGoogleVip, type GoogleVip } from "./google-vip.js";
import { privateAddressRelays, type PrivateAddressRelay } from "./private-tcp.js";

export interface InstanceEgress {
  proxy: EgressProxy;
  vip: GoogleVip;
  /** The private addresses this revision may reach, as they were registered when the instance started. */
  privateAddresses: PrivateAddressRelay[];
}

export function createInstanceEgress(ca: LocalCa, context: EgressContext): InstanceEgress {
  const decide = (target: Parameters<typeof decideEgress>[1]) => decideEgress(context, target);
  return {
    proxy: createEgressProxy({ ca, decide }),
    vip: createGoogleVip({ ca, decide }),
    privateAddresses: privateAddressRelays(context.privateResources(), decide),
  };
}
