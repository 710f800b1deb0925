import { badUserInput } from '@firefly/errors';
import type { MessageRow } from '../domain/ports.ts';
import type { ConversationServices } from '../services.ts';
import { DuplicateRequestError } from './ports.ts';
import { redisKeys } from './redis-keys.ts';

/** Longest idempotencyKey a client may send. */
const MAX_KEY_LENGTH = 128;
/** How long one request may hold its key's claim; duplicates wait at most this long for it. */
const CLAIM_TTL_MS = 15_000;
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
 * - One after the other: the first request's assistant message carries the key; the retry finds it and replays.
 * - At the same time: a claim in Redis lets one run while the others wait for its message, so a duplicate never
 *   reserves credits or takes a generation slot (it would otherwise fail RATE_LIMITED or INSUFFICIENT_CREDITS
 *   where the first succeeded).
 * - If the claim cannot help (its holder hung for longer than its expiry), the message's unique key still decides:
 *   the loser undoes its own reservation and replays the winner's messages.
 * A request that failed stored nothing, so retrying it with the same key runs it again.
 */
export async function withIdempotencyKey<T>(services: ConversationServices, request: IdempotentRequest<T>): Promise<T> {
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
  const deadline = Date.now() + CLAIM_TTL_MS;
  for (;;) {
    const existing = await find();
    if (existing) return request.replay(existing);
    const token = await services.claims.claim(claimKey, CLAIM_TTL_MS);
    if (token) {
      try {
        const stored = await find();
        return stored ? await request.replay(stored) : await runOrReplay();
      } finally {
        await services.claims.release(claimKey, token).catch(() => undefined);
      }
    }
    if (Date.now() > deadline) return runOrReplay();
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

function validKey(key: string | null | undefined): string | undefined {
  if (key == null) return undefined;
  if (key.trim() === '' || key.length > MAX_KEY_LENGTH) {
    throw badUserInput(`idempotencyKey must be 1 to ${MAX_KEY_LENGTH} characters, not blank`, { field: 'idempotencyKey', max: MAX_KEY_LENGTH });
  }
  return key;
}
