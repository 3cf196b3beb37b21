// Cloud Run traffic: how a service's requests are split between its revisions (Knative `spec.traffic`), which
// revisions a tag names, and the tag URLs. Validation follows Cloud Run (Knative's messages, Cloud Run's tag
// length rule); the check that named revisions exist is made where the revisions are read (services.ts).
import { ApiError } from "../core/errors.js";
import { fieldViolation } from "./validate.js";
import { deterministicHost, hashHost, type ServiceUrlParts } from "./urls.js";
import type { StoredService, TrafficTarget } from "./types.js";

/** What a service gets when no traffic is given: everything to the latest ready revision. */
export const ALL_TO_LATEST: readonly TrafficTarget[] = Object.freeze([
  Object.freeze({ latestRevision: true, percent: 100 }),
]);

const TAG = /^[a-z](?:[-a-z0-9]*[a-z0-9])?$/;
/** Cloud Run: the tag and the service name together form the tag URL's DNS label. */
const MAX_TAG_AND_SERVICE = 46;

function validateTag(tag: unknown, field: string, serviceName: string): string {
  if (typeof tag !== "string" || !TAG.test(tag)) {
    throw fieldViolation(
      field,
      `Invalid tag '${String(tag)}': a tag must use only lowercase letters, numbers and '-', begin with a letter and not end with '-'.`,
    );
  }
  if (tag.length + serviceName.length > MAX_TAG_AND_SERVICE) {
    throw fieldViolation(
      "spec.traffic.tag",
      `traffic tag '${tag}' and service name '${serviceName}' together are too long. Combined traffic tag and service name cannot exceed ${MAX_TAG_AND_SERVICE} characters.`,
    );
  }
  return tag;
}

function validateTarget(raw: unknown, index: number, serviceName: string): TrafficTarget {
  const field = `spec.traffic[${index}]`;
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw fieldViolation(field, "A traffic target must be an object.");
  const target = raw as Record<string, unknown>;
  const { revisionName, latestRevision, percent, tag } = target;
  if (revisionName !== undefined && (typeof revisionName !== "string" || revisionName === ""))
    throw fieldViolation(`${field}.revisionName`, "A revision name must be a non-empty string.");
  if (latestRevision !== undefined && typeof latestRevision !== "boolean")
    throw fieldViolation(`${field}.latestRevision`, "latestRevision must be a boolean.");
  if (revisionName !== undefined && latestRevision === true)
    throw fieldViolation(
      `${field}.latestRevision`,
      `may not set revisionName "${revisionName}" when latestRevision is true`,
    );
  if (revisionName === undefined && latestRevision !== true)
    throw fieldViolation(field, "expected exactly one, got neither: revisionName, latestRevision");
  if (
    percent !== undefined &&
    (typeof percent !== "number" || !Number.isInteger(percent) || percent < 0 || percent > 100)
  )
    throw fieldViolation(`${field}.percent`, `expected 0 <= ${String(percent)} <= 100`);
  return {
    ...(revisionName !== undefined ? { revisionName } : { latestRevision: true }),
    ...(percent ? { percent } : {}),
    ...(tag !== undefined && tag !== "" ? { tag: validateTag(tag, `${field}.tag`, serviceName) } : {}),
  };
}

/** `spec.traffic` as sent, checked and normalized; none (or an empty list) is everything to the latest. */
export function validateTraffic(raw: unknown, serviceName: string): TrafficTarget[] {
  if (raw === undefined || raw === null) return [...ALL_TO_LATEST];
  if (!Array.isArray(raw)) throw fieldViolation("spec.traffic", "Traffic must be a list of traffic targets.");
  if (raw.length === 0) return [...ALL_TO_LATEST];
  const targets = raw.map((target, i) => validateTarget(target, i, serviceName));
  const firstWithTag = new Map<string, number>();
  targets.forEach((target, i) => {
    if (target.tag === undefined) return;
    const first = firstWithTag.get(target.tag);
    if (first !== undefined)
      throw fieldViolation(
        `spec.traffic[${first}].tag, spec.traffic[${i}].tag`,
        `Multiple definitions for "${target.tag}"`,
      );
    firstWithTag.set(target.tag, i);
  });
  const sum = targets.reduce((total, target) => total + (target.percent ?? 0), 0);
  if (sum !== 100) throw fieldViolation("spec.traffic", `Traffic targets sum to ${sum}, want 100`);
  return targets;
}

/** Cloud Run's answer when traffic names a revision the service does not have. */
export function missingRevision(name: string): ApiError {
  return fieldViolation(
    "spec.traffic",
    `Revision '${name}' does not exist or is deleted. Update all traffic to route to currently available revisions.`,
  );
}

/** The revision a target sends its share to (latestRevision resolved), if there is one yet. */
export function revisionOf(target: TrafficTarget, service: Pick<StoredService, "latestReadyRevision">) {
  return target.latestRevision ? service.latestReadyRevision : target.revisionName;
}

/** Stored services from before traffic was kept had `traffic` missing or empty. */
export const trafficOf = (service: Pick<StoredService, "traffic">): readonly TrafficTarget[] =>
  service.traffic?.length ? service.traffic : ALL_TO_LATEST;

/** Every revision that takes a share of traffic or has a tag: the revisions that must be able to answer. */
export function servingRevisions(service: StoredService): string[] {
  const names = new Set<string>();
  for (const target of trafficOf(service)) {
    const revision = revisionOf(target, service);
    if (revision && ((target.percent ?? 0) > 0 || target.tag)) names.add(revision);
  }
  return [...names];
}

/** The hosts of a tag: TAG---SERVICE-HASH-REGIONCODE.a.run.app, and the deterministic one when it fits 63. */
export function tagHosts(tag: string, parts: ServiceUrlParts): string[] {
  const deterministic = deterministicHost({ ...parts, service: `${tag}---${parts.service}` });
  return [`${tag}---${hashHost(parts)}`, ...(deterministic ? [deterministic] : [])];
}

/** A tag's URL as status.traffic[].url and v2 trafficStatuses[].uri show it (the hash form, like status.url). */
export const tagUrl = (tag: string, parts: ServiceUrlParts) => `https://${tagHosts(tag, parts)[0]}`;

/** status.traffic: each target with its revision resolved and, for a tag, its URL. */
export function trafficStatus(service: StoredService, parts: ServiceUrlParts) {
  return trafficOf(service).flatMap((target) => {
    const revisionName = revisionOf(target, service);
    if (!revisionName) return [];
    return [
      {
        revisionName,
        ...(target.percent ? { percent: target.percent } : {}),
        ...(target.latestRevision ? { latestRevision: true } : {}),
        ...(target.tag ? { tag: target.tag, url: tagUrl(target.tag, parts) } : {}),
      },
    ];
  });
}
