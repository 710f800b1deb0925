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

/**
 * A delta past the first found no stream to append to: Redis lost it (restarted empty, or evicted it) while the
 * answer was being written. Entries it had acknowledged but no subscriber had read yet are gone with it; appending
 * anyway would start a new stream at this seq and every subscriber resuming from before it would see a gap. The
 * writer, who holds every delta so far, writes the stream again (`restore`) and goes on.
 */
export class StreamLostError extends Error {
  override readonly name = 'StreamLostError';
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

/**
 * Writes a lost stream again, all or nothing: only when no one re-created it meanwhile (a MULTI would not do: Redis
 * runs the XADDs after a failed one). KEYS[1] the stream; ARGV ttl, input tokens, output tokens ('' when unknown,
 * put on the last entry), then the deltas by seq.
 */
const RESTORE_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
for i = 4, #ARGV do
  if i == #ARGV and ARGV[2] ~= '' then
    redis.call('XADD', KEYS[1], '0-' .. (i - 3), 'd', ARGV[i], 'it', ARGV[2], 'ot', ARGV[3])
  else
    redis.call('XADD', KEYS[1], '0-' .. (i - 3), 'd', ARGV[i])
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** Every this many deltas the stream's live TTL is set again (see appendDelta). */
const REFRESH_TTL_EVERY = 100;

/** Writes and reads the per-message Redis Streams. */
export function createMessageStreamStore(redis: Redis, options: MessageStreamStoreOptions): MessageStreamStore {
  /**
   * XADD of one entry. Past seq 1 only into a stream that exists (NOMKSTREAM): a lost stream is not re-created at a
   * later seq (StreamLostError). The `done` entry may create it: a finisher without the deltas (the sweeper) still
   * ends the stream for its subscribers.
   */
  async function add(messageId: string, seq: number, fields: (string | number)[], ttlSeconds: number | null, mayCreate: boolean): Promise<void> {
    const key = redisKeys.stream(messageId);
    const id = entryId(seq);
    let added: unknown;
    try {
      if (ttlSeconds === null) added = await (mayCreate ? redis.xadd(key, id, ...fields) : redis.xadd(key, 'NOMKSTREAM', id, ...fields));
      // Same key, same slot: a MULTI is fine under Cluster too.
      else {
        const multi = mayCreate ? redis.multi().xadd(key, id, ...fields) : redis.multi().xadd(key, 'NOMKSTREAM', id, ...fields);
        added = throwFirstError(await multi.expire(key, ttlSeconds).exec());
      }
    } catch (error) {
      throw conflictOr(error, `seq ${seq} of message ${messageId} was already written`);
    }
    if (added === null) throw new StreamLostError(`the stream of message ${messageId} was lost before seq ${seq}`);
  }

  return {
    appendDelta(messageId, seq, delta, usage) {
      const fields: (string | number)[] = ['d', delta];
      if (usage) fields.push('it', usage.inputTokens, 'ot', usage.outputTokens);
      // The live TTL outlasts any generation (generation timeout + retention), so the first delta sets it and most
      // deltas are a bare XADD (one command instead of MULTI/XADD/EXPIRE/EXEC per token); every 100th sets it again,
      // in case the stream was lost and re-created mid-answer. `done` sets the retention.
      return add(messageId, seq, fields, seq === 1 || seq % REFRESH_TTL_EVERY === 0 ? options.liveTtlSeconds : null, seq === 1);
    },
    /** The last event; the stream then expires after the retention time. */
    appendDone(messageId, seq, status) {
      return add(messageId, seq, ['done', status], options.retentionSeconds, true);
    },
    async restore(messageId, deltas, usage) {
      if (deltas.length === 0) return;
      const restored = await redis.eval(RESTORE_SCRIPT, 1, redisKeys.stream(messageId), options.liveTtlSeconds, usage?.inputTokens ?? '', usage?.outputTokens ?? '', ...deltas);
      // Someone else wrote the stream meanwhile (the sweeper took the generation over): theirs stands.
      if (restored !== 1) throw new StreamConflictError(`the stream of message ${messageId} was written again by someone else`);
    },
    async readAll(messageId) {
      return parseEntries((await redis.xrange(redisKeys.stream(messageId), '-', '+')) as [string, string[]][]);
    },
    async exists(messageId) {
      return (await redis.exists(redisKeys.stream(messageId))) === 1;
    },
  };
}

/** The first command's result, after throwing the first error of the transaction. */
function throwFirstError(results: [Error | null, unknown][] | null): unknown {
  for (const [error] of results ?? []) if (error) throw error;
  return results?.[0]?.[1];
}

function conflictOr(error: unknown, message: string): unknown {
  if (error instanceof Error && /equal or smaller than the target stream top item/i.test(error.message)) return new StreamConflictError(message);
  return error;
}
