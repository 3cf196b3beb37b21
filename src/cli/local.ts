// What CLI commands share: the data directory's store and signing keys, the running server's endpoints,
// and a small client for runguard's API.
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { Command } from "commander";
import { systemClock } from "../core/clock.js";
import { openSqliteStore } from "../store/sqlite-store.js";
import { createTokenService } from "../tokens/token-service.js";
import { endpointsFile, type Endpoints } from "../app/endpoints.js";
import type { LocalSigner } from "../app/local-credentials.js";
import { callLocalApi } from "../app/local-credentials.js";
import { parsePrincipal } from "../iam/principal-parse.js";
import type { Principal } from "../iam/types.js";
import type { Store } from "../store/store.js";
import { createEnvelope } from "../secrets/envelope.js";
import { kekSourceOf, loadKeyEncryptionKey } from "../secrets/key-encryption-key.js";

/**
 * Absolute: instances get paths inside it (the local CA bundle for REQUESTS_CA_BUNDLE, SSL_CERT_FILE and
 * NODE_EXTRA_CA_CERTS) and run in their own working directory, where the default `.runguard` means nothing.
 */
export function dataDirOf(command: Command): string {
  return resolve((command.optsWithGlobals() as { dataDir: string }).dataDir);
}

export function readEndpoints(dataDir: string): Endpoints {
  const file = endpointsFile(dataDir);
  if (!existsSync(file)) {
    throw new Error(`runguard has not been started with data directory '${dataDir}': run \`runguard up\` first.`);
  }
  return JSON.parse(readFileSync(file, "utf8")) as Endpoints;
}

export interface LocalSession extends LocalSigner {
  dataDir: string;
  endpoints: Endpoints;
  close(): Promise<void>;
}

export async function openLocal(dataDir: string): Promise<LocalSession> {
  const endpoints = readEndpoints(dataDir);
  // The CLI signs its own tokens, so it opens the signing keys with the KEK `up` uses (--kek-file, RUNGUARD_KEK…).
  const envelope = createEnvelope(loadKeyEncryptionKey(dataDir, kekSourceOf(undefined)));
  const store: Store = openSqliteStore({ dataDir });
  const tokens = createTokenService({ store, clock: systemClock, envelope });
  return { dataDir, endpoints, store, tokens, clock: systemClock, close: () => store.close() };
}

export function defaultOwner(session: LocalSession): string {
  return `user:${session.endpoints.ownerEmail}`;
}

export function signedIn(text: string): Exclude<Principal, { kind: "anonymous" }> {
  const principal = parsePrincipal(text);
  if (principal.kind === "anonymous") throw new Error("cannot act as allUsers: choose a user or service account");
  return principal;
}

/** Calls runguard's control plane as `principal`, returning the parsed JSON or throwing its Google error message. */
export async function callApi(
  session: LocalSession,
  principal: Exclude<Principal, { kind: "anonymous" }>,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  const answer = await callLocalApi(session, session.endpoints.api, principal, { method, path, body }).catch(() => {
    throw new Error(`runguard is not answering at ${session.endpoints.api}: is \`runguard up\` running?`);
  });
  const error = answer.body.error;
  if (!answer.ok) throw new Error(`${String(error?.status ?? answer.status)}: ${error?.message ?? ""}`);
  return answer.body;
}
