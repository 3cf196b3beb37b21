// `runguard import --secret-values FILE`: a YAML (or JSON) map from secret name to value, for secrets whose real
// values the user chooses to bring. The values go into the state in memory only, never into output.
import { invalidArgument } from "../core/errors.js";
import { parseYaml, readText } from "./files.js";
import type { DeclaredState } from "./schema.js";

export async function withSecretValues(state: DeclaredState, path: string): Promise<DeclaredState> {
  const values = parseYaml(await readText(path), path);
  if (typeof values !== "object" || values === null || Array.isArray(values))
    throw invalidArgument(`${path}: expected a map of secret name to value (stripe-key: VALUE).`);
  const entries = Object.entries(values as Record<string, unknown>);
  for (const [name, value] of entries) {
    // The message names the secret, never the value.
    if (typeof value !== "string" || value === "")
      throw invalidArgument(`${path}: the value of ${name} must be a non-empty string.`);
    if (!state.secrets.some((s) => s.name === name))
      throw invalidArgument(`${path}: ${name} is not one of the exported secrets.`);
  }
  const given = new Map(entries as Array<[string, string]>);
  return {
    ...state,
    secrets: state.secrets.map((secret) => {
      const value = given.get(secret.name);
      return value === undefined ? secret : { ...secret, value };
    }),
  };
}
