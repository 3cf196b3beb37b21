// The GCE metadata paths Cloud Run serves and the Google auth libraries read (fidelity reference §3.1).
import { decodeComponent } from "../core/http-input.js";
import type { TokenService } from "../tokens/types.js";
import type { Clock } from "../core/clock.js";

export interface InstanceIdentity {
  serviceAccountEmail: string;
  serviceAccountUniqueId: string;
  projectId: string;
  projectNumber: string;
  region: string;
  instanceId: string;
  scopes?: string[];
}

export interface MetadataReply {
  status: number;
  body: string;
  json?: boolean;
}

const CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform";
const text = (body: string, status = 200): MetadataReply => ({ status, body });
const json = (value: unknown): MetadataReply => ({ status: 200, body: JSON.stringify(value), json: true });
export const NOT_FOUND: MetadataReply = { status: 404, body: "Not Found\n" };

export interface MetadataDeps {
  identity: InstanceIdentity;
  tokens: Pick<TokenService, "signIdToken" | "issueAccessToken">;
  clock: Clock;
}

/** Access tokens are reused until five minutes before they expire, as the real metadata server does. */
export function createAccessTokenCache(deps: MetadataDeps) {
  let cached: { token: string; expiresAtMs: number; scopes: string } | undefined;
  return async (scopes: string[]) => {
    const key = scopes.join(",");
    const now = deps.clock.now();
    if (!cached || cached.scopes !== key || cached.expiresAtMs - now < 5 * 60_000) {
      const issued = await deps.tokens.issueAccessToken({
        principal: { kind: "serviceAccount", email: deps.identity.serviceAccountEmail },
        uniqueId: deps.identity.serviceAccountUniqueId,
        scopes,
      });
      cached = { ...issued, scopes: key };
    }
    return {
      access_token: cached.token,
      expires_in: Math.floor((cached.expiresAtMs - now) / 1000),
      token_type: "Bearer",
    };
  };
}

export function createMetadataRouter(deps: MetadataDeps) {
  const { identity } = deps;
  const scopes = identity.scopes ?? [CLOUD_PLATFORM];
  const accessToken = createAccessTokenCache(deps);
  const account = { aliases: ["default"], email: identity.serviceAccountEmail, scopes };
  const zone = `projects/${identity.projectNumber}/zones/${identity.region}-1`;

  const accountPath = async (rest: string, query: URLSearchParams): Promise<MetadataReply> => {
    switch (rest) {
      case "":
        return query.get("recursive") === "true" ? json(account) : text("aliases\nemail\nidentity\nscopes\ntoken\n");
      case "email":
        return text(identity.serviceAccountEmail);
      case "aliases":
        return text("default\n");
      case "scopes":
        return text(`${scopes.join("\n")}\n`);
      case "token": {
        const requested = query.get("scopes");
        return json(await accessToken(requested ? requested.split(",") : scopes));
      }
      case "identity": {
        const audience = query.get("audience");
        if (!audience) return text("non-empty audience parameter required\n", 400);
        const token = await deps.tokens.signIdToken({
          principal: { kind: "serviceAccount", email: identity.serviceAccountEmail },
          uniqueId: identity.serviceAccountUniqueId,
          audience,
          includeEmail: query.get("format") === "full",
        });
        return text(token);
      }
      default:
        return NOT_FOUND;
    }
  };

  return async (path: string, query: URLSearchParams): Promise<MetadataReply> => {
    if (path === "/" || path === "") return text("computeMetadata/\n");
    const relative = path.replace(/^\/computeMetadata\/v1\/?/, "");
    if (relative === path) return NOT_FOUND;
    const fixed: Record<string, string> = {
      "": "instance/\nproject/\nuniverse/\n",
      instance: "attributes/\nid\nregion\nservice-accounts/\nzone\n",
      "instance/": "attributes/\nid\nregion\nservice-accounts/\nzone\n",
      "instance/id": identity.instanceId,
      "instance/region": `projects/${identity.projectNumber}/regions/${identity.region}`,
      "instance/zone": zone,
      "instance/attributes/": "",
      "instance/service-accounts/": `default/\n${identity.serviceAccountEmail}/\n`,
      "project/project-id": identity.projectId,
      "project/numeric-project-id": identity.projectNumber,
      "project/attributes/": "",
      "universe/universe-domain": "googleapis.com",
    };
    if (relative in fixed) return text(fixed[relative] ?? "");
    const match = /^instance\/service-accounts\/([^/]+)\/?(.*)$/.exec(relative);
    if (!match) return NOT_FOUND;
    // A malformed escape names no account: not found, as any other unknown account.
    const who = decodeComponent(match[1] ?? "");
    if (who === undefined) return NOT_FOUND;
    if (who !== "default" && who.toLowerCase() !== identity.serviceAccountEmail.toLowerCase()) return NOT_FOUND;
    return accountPath(match[2] ?? "", query);
  };
}
