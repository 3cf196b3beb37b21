// A bounded cache of verified tokens. An entry never outlives its token: every hit checks exp against the
// clock, so a cached token stops working the moment it expires.
export interface VerificationCache<V> {
  get(token: string, nowMs: number): V | undefined;
  set(token: string, value: V, expiresAtMs: number): void;
  clear(): void;
}

export function createVerificationCache<V>(maxEntries: number): VerificationCache<V> {
  const entries = new Map<string, { value: V; expiresAtMs: number }>();
  return {
    get(token, nowMs) {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.expiresAtMs <= nowMs) {
        entries.delete(token);
        return undefined;
      }
      return entry.value;
    },
    set(token, value, expiresAtMs) {
      if (entries.size >= maxEntries) {
        const oldest = entries.keys().next().value;
        if (oldest !== undefined) entries.delete(oldest);
      }
      entries.set(token, { value, expiresAtMs });
    },
    clear() {
      entries.clear();
    },
  };
}
