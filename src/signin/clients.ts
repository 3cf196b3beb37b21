// The OAuth clients runguard's sign-in knows: IAP's Google-managed client of every backend service (and of
// every service with IAP turned on directly). A client may only send users back to its own IAP callback on a
// host that serves it, so the sign-in page can never be used to bounce a code to somebody else's site.
import type { Store } from "../store/store.js";
import type { StoredBackendService } from "../load-balancer/types.js";
import { hostsServing } from "../load-balancer/routing.js";

export const IAP_CALLBACK_PATH = "/_gcp_gatekeeper/authenticate";

export interface ClientDirectory {
  /** Host names a client's callback may be on; undefined when the client is unknown. */
  callbackHosts(clientId: string): Promise<string[] | undefined>;
}

/** Extra clients beyond backend services (services with direct IAP), given as client id → host names. */
export type ExtraClients = () => Promise<Map<string, string[]>>;

export function createClientDirectory(store: Store, extra: ExtraClients = async () => new Map()): ClientDirectory {
  return {
    async callbackHosts(clientId) {
      const direct = (await extra()).get(clientId);
      if (direct) return direct;
      const backends = await store.list<StoredBackendService>("backendService");
      const backend = backends.find((b) => b.iap.oauth2ClientId === clientId);
      if (!backend) return undefined;
      return hostsServing(store, backend.resource);
    },
  };
}

export async function isAllowedRedirect(
  clients: ClientDirectory,
  clientId: string,
  redirectUri: string,
): Promise<boolean> {
  let url: URL;
  try {
    url = new URL(redirectUri);
  } catch {
    return false;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return false;
  if (url.pathname !== IAP_CALLBACK_PATH || url.search !== "" || url.hash !== "") return false;
  const hosts = await clients.callbackHosts(clientId);
  return hosts?.includes(url.hostname.toLowerCase()) ?? false;
}
