import { badUserInput } from '@firefly/errors';
import type { MessageRow } from '../domain/ports.ts';
import type { ConversationServices } from '../services.ts';
import { DuplicateRequestError } from './ports.ts';
import { redisKeys } from './redis-keys.ts';

/** Longest idempotencyKey a client may send. */
const MAX_KEY_LENGTH = 128;
/**
 * How the claim of a request's key is timed. The claim expires `ttlMs` after its holder last renewed it (so a
 * process that died mid-request frees it within that), and its holder renews it every third of that while its
 * request runs — a hold whose billing calls are retried (three attempts of five seconds each) lasts longer than one
 * expiry. A request's claim is renewed for at most `maxHoldMs`, and a duplicate waits at most that long before it
 * runs anyway (the message's unique key then decides, see below).
 */
export interface ClaimTiming {
  ttlMs: number;
  maxHoldMs: number;
}

const CLAIM_TIMING: ClaimTiming = { ttlMs: 15_000, maxHoldMs: 60_000 };
const POLL_MS = 50;

export interface IdempotentRequest<T> {
  tenantId: string;
  userId: string;
  /** `sendMessage` or `regenerateMessage`: a key used for one operation is not found by the other. */
  operation: string;
  /** The client's key; absent → the request simply runs. */
  idempotencyKey: string | null | undefined;
  /** Turns the assistant message an earlier request with this key created into this request's answer. */
  replay: (answer: MessageRow) => Promise<T>;
  /** Runs the request, storing `storedKey` on the assistant message it creates. */
  run: (storedKey: string | undefined) => Promise<T>;
}

/**
 * sendMessage and regenerateMessage with an idempotencyKey: the same key from the same user gets the messages the
 * first request created (charged once), however the duplicates arrive.
 * - Every request with a key first takes the key's claim in Redis, and only then looks for a message carrying the
 *   key: the first request stores its messages while billing is still holding the credits (start-generation.ts), and
 *   removes them again when the hold is refused, so a message seen while its request still runs may never be
 *   answered. Under the claim, a message found is the outcome of a request that finished.
 * - One after the other: the first request's assistant message carries the key; the retry finds it and replays.
 * - At the same time: the claim lets one run while the others wait for it, so a duplicate never reserves credits
 *   or takes a generation slot (it would otherwise fail RATE_LIMITED or INSUFFICIENT_CREDITS where the first
 *   succeeded), and then finds the first one's messages — or none, when the first failed, and runs itself.
 * - If the claim cannot help (its holder died, or ran longer than the claim is renewed), the message's unique key still decides:
 *   the loser undoes its own reservation and replays the winner's messages.
 * A request that failed kept nothing, so retrying it with the same key runs it again.
 */
export async function withIdempotencyKey<T>(
  services: Pick<ConversationServices, 'claims' | 'turns'>,
  request: IdempotentRequest<T>,
  timing: ClaimTiming = CLAIM_TIMING,
): Promise<T> {
  const key = validKey(request.idempotencyKey);
  if (key === undefined) return request.run(undefined);
  const storedKey = `${request.operation}:${key}`;
  const find = () => services.turns.findByIdempotencyKey({ tenantId: request.tenantId, userId: request.userId, idempotencyKey: storedKey });
  const runOrReplay = async () => {
    try {
      return await request.run(storedKey);
    } catch (error) {
      const first = error instanceof DuplicateRequestError ? await find() : null;
      if (first) return request.replay(first);
      throw error;
    }
  };

  const claimKey = redisKeys.requestClaim(request.tenantId, request.userId, storedKey);
  const deadline = Date.now() + timing.maxHoldMs;
  for (;;) {
    // No look for the key's message before the claim: its request may still be holding (see above).
    const token = await services.claims.claim(claimKey, timing.ttlMs);
    if (token) {
      const renewing = renewWhileRunning(services.claims, claimKey, token, timing);
      try {
        const stored = await find();
        return stored ? await request.replay(stored) : await runOrReplay();
      } finally {
        clearInterval(renewing);
        await services.claims.release(claimKey, token).catch(() => undefined);
      }
    }
    if (Date.now() > deadline) return runOrReplay();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** Renews a held claim every third of its expiry, for at most `maxHoldMs`; stopped by the caller when it is done. */
function renewWhileRunning(claims: ConversationServices['claims'], key: string, token: string, timing: ClaimTiming): NodeJS.Timeout {
  const until = Date.now() + timing.maxHoldMs;
  const timer: NodeJS.Timeout = setInterval(() => {
    if (Date.now() >= until) return clearInterval(timer);
    // A failed renewal (Redis briefly away) leaves the expiry as it was; the next tick tries again.
    claims.renew(key, token, timing.ttlMs).catch(() => undefined);
  }, Math.max(1, Math.floor(timing.ttlMs / 3)));
  timer.unref();
  return timer;
}

function validKey(key: string | null | undefined): string | undefined {
  if (key == null) return undefined;
  if (key.trim() === '' || key.length > MAX_KEY_LENGTH) {
    throw badUserInput(`idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters, not blank`, { field: 'idempotencyKey', max: MAX_KEY_LENGTH });
  }
  return key;
}
