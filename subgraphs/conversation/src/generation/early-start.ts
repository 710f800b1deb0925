/**
 * Whose answers start their DashScope request before their credits are held (GENERATION_EARLY_START).
 *
 * The hold (billing prices the answer and reserves it, over HTTP) is most of the time before the request can leave,
 * and the request needs nothing from it: started at once, the first token is on its way while billing answers.
 * Nothing is written before the hold is placed and the rows are stored, and a failed hold aborts the request
 * unseen — but the request was sent, and the provider's work on it is paid by nobody. So only a user whose last hold
 * in this process succeeded, within `windowMs`, starts early: a user without credits (or with an unpriced model,
 * or while billing fails) is never sent upstream before the hold, and one who just ran out costs at most one early
 * request per answer already on its way when the first hold failed (answers started together all pass the check
 * before any hold answers: up to the user's concurrent-generation slots, per process) before waiting for the hold
 * again.
 */
export interface EarlyStartPolicy {
  /** True when this user's answer may start upstream before its hold. */
  allows(tenantId: string, userId: string): boolean;
  /** The user's hold was placed. */
  held(tenantId: string, userId: string): void;
  /** The user's hold failed: their next answers wait for their hold. */
  failed(tenantId: string, userId: string): void;
}

export interface EarlyStartOptions {
  enabled: boolean;
  /** How long a placed hold lets the user's answers start early. Default 10 minutes. */
  windowMs?: number;
  /** Most users remembered (the least recently held are forgotten first). Default 50,000. */
  maxEntries?: number;
  now?: () => number;
}

export function createEarlyStartPolicy(options: EarlyStartOptions): EarlyStartPolicy {
  const windowMs = options.windowMs ?? 10 * 60_000;
  const maxEntries = options.maxEntries ?? 50_000;
  const now = options.now ?? Date.now;
  /** User → until when their answers start early; insertion order is that order too. */
  const until = new Map<string, number>();
  const keyOf = (tenantId: string, userId: string) => `${tenantId}\u0000${userId}`;

  return {
    allows(tenantId, userId) {
      if (!options.enabled) return false;
      const key = keyOf(tenantId, userId);
      const end = until.get(key);
      if (end === undefined) return false;
      if (end > now()) return true;
      until.delete(key);
      return false;
    },
    held(tenantId, userId) {
      if (!options.enabled) return;
      const key = keyOf(tenantId, userId);
      until.delete(key);
      until.set(key, now() + windowMs);
      if (until.size > maxEntries) until.delete(until.keys().next().value!);
    },
    failed(tenantId, userId) {
      until.delete(keyOf(tenantId, userId));
    },
  };
}
