import { parseStreamEntries, type RawStreamEntry, type Redis } from '@firefly/redis';
import type { MessageStreamStore, StreamEntry } from './ports.ts';
import { redisKeys } from './redis-keys.ts';

/*
 * A message's events live in a Redis Stream. The entry id is `0-<seq>`: Redis itself then guarantees the order and
 * refuses a duplicate or out-of-order seq (XADD with an id not above the top fails), which is how a writer that
 * lost its lease learns that someone else finished the message.
 */

/** XADD refused the id: another writer got there first (the generation was taken over). */
export class StreamConflictError extends Error {
  override readonly name = 'StreamConflictError';
}

export function entryId(seq: number): string {
  return `0-${seq}`;
}

function seqOf(id: string): number {
  const dash = id.indexOf('-');
  return Number(id.slice(dash + 1));
}

/** One raw entry of a message stream as the conversation reads it (fields `d`, `it`/`ot` or `done`). */
export function toStreamEntry(entry: RawStreamEntry): StreamEntry {
  const { fields } = entry;
  const seq = seqOf(entry.id);
  if (fields.has('done')) return { seq, kind: 'done', status: fields.get('done')! };
  const num = (name: string) => (fields.has(name) ? Number(fields.get(name)) : null);
  return { seq, kind: 'delta', delta: fields.get('d') ?? '', inputTokens: num('it'), outputTokens: num('ot') };
}

/** Parses XRANGE entries (`[id, [field, value, …]]`). */
function parseEntries(raw: readonly [string, string[]][]): StreamEntry[] {
  return parseStreamEntries(raw).map(toStreamEntry);
}

export interface MessageStreamStoreOptions {
  /** TTL of a stream while it is written (a safety net; completion sets the retention). */
  liveTtlSeconds: number;
  /** TTL after the done event (STREAM_RETENTION_SECONDS). */
  retentionSeconds: number;
}

/** Every this many deltas the stream's live TTL is set again (see appendDelta). */
const REFRESH_TTL_EVERY = 100;

/** Writes and reads the per-message Redis Streams. */
export function createMessageStreamStore(redis: Redis, options: MessageStreamStoreOptions): MessageStreamStore {
  async function add(messageId: string, seq: number, fields: (string | number)[], ttlSeconds: number | null): Promise<void> {
    const key = redisKeys.stream(messageId);
    try {
      if (ttlSeconds === null) await redis.xadd(key, entryId(seq), ...fields);
      // Same key, same slot: a MULTI is fine under Cluster too.
      else await redis.multi().xadd(key, entryId(seq), ...fields).expire(key, ttlSeconds).exec().then(throwFirstError);
    } catch (error) {
      if (error instanceof Error && /equal or smaller than the target stream top item/i.test(error.message)) {
        throw new StreamConflictError(`seq ${seq} of message ${messageId} was already written`);
      }
      throw error;
    }
  }

  return {
    appendDelta(messageId, seq, delta, usage) {
      const fields: (string | number)[] = ['d', delta];
      if (usage) fields.push('it', usage.inputTokens, 'ot', usage.outputTokens);
      // The live TTL outlasts any generation (generation timeout + retention), so the first delta sets it and most
      // deltas are a bare XADD (one command instead of MULTI/XADD/EXPIRE/EXEC per token); every 100th sets it again,
      // in case the stream was lost and re-created mid-answer. `done` sets the retention.
      return add(messageId, seq, fields, seq === 1 || seq % REFRESH_TTL_EVERY === 0 ? options.liveTtlSeconds : null);
    },
    /** The last event; the stream then expires after the retention time. */
    appendDone(messageId, seq, status) {
      return add(messageId, seq, ['done', status], options.retentionSeconds);
    },
    async readAll(messageId) {
      return parseEntries((await redis.xrange(redisKeys.stream(messageId), '-', '+')) as [string, string[]][]);
    },
    async exists(messageId) {
      return (await redis.exists(redisKeys.stream(messageId))) === 1;
    },
  };
}

function throwFirstError(results: [Error | null, unknown][] | null): void {
  for (const [error] of results ?? []) if (error) throw error;
}
