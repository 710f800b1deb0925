import { badUserInput, notFound } from '@firefly/errors';
import { createFollow, FOLLOW_DONE } from '@firefly/redis';
import type { MessageRow } from '../domain/ports.ts';
import type { ConversationScope } from '../domain/scope.ts';
import type { ConversationServices } from '../services.ts';
import type { StreamEntry } from './ports.ts';

/** One `messageStream` event (the schema's `MessageStreamEvent`). */
export interface MessageStreamEvent {
  messageId: string;
  seq: number;
  delta: string;
  done: boolean;
  /** The final message on the `done` event; null on the others. */
  message: MessageRow | null;
}

interface IteratorOptions {
  services: ConversationServices;
  messageId: string;
  afterSeq: number;
  /** The stored message, read fresh. */
  load: () => Promise<MessageRow | null>;
  /** Start from a synthesized `done` (the stream expired from Redis; the stored message is the record). */
  expired: boolean;
}

/**
 * The iterator behind one `messageStream` subscription: entries of the shared stream reader, in seq order, until the
 * `done` event (which carries the final message).
 *
 * `return()` acts at once (Follow.iterator in @firefly/redis). It never touches the generation: unsubscribing only
 * ends this client's stream.
 *
 * Safety net: if nothing arrives for a while, the stored message is checked; if it is no longer STREAMING (its
 * `done` event was lost, e.g. the finisher died between the two writes) a `done` is synthesized, so a subscriber
 * never waits forever.
 */
function createIterator(options: IteratorOptions): AsyncIterableIterator<MessageStreamEvent> {
  const { services, messageId } = options;
  const queue: StreamEntry[] = [];
  let lastSeq = options.afterSeq;
  let lastActivity = Date.now();

  services.iterators.active += 1;
  const follow = createFollow(() => {
    unsubscribe();
    services.iterators.active -= 1;
  });
  const wake = () => {
    lastActivity = Date.now();
    follow.wake();
  };
  const synthesizeDone = () => queue.push({ seq: lastSeq + 1, kind: 'done', status: '' });

  const unsubscribe = options.expired
    ? () => {}
    : services.hub.subscribe(messageId, options.afterSeq, (entries) => {
        queue.push(...entries);
        wake();
      });
  if (options.expired) synthesizeDone();

  const idleMs = services.settings.streamIdleCheckMs;
  follow.every(idleMs, () => {
    if (follow.ended || queue.length > 0 || Date.now() - lastActivity < idleMs) return;
    options.load().then(
      (message) => {
        if (!follow.ended && queue.length === 0 && message?.status !== 'STREAMING') {
          synthesizeDone();
          wake();
        }
      },
      (error: unknown) => services.logger.warn({ err: error, messageId }, 'messageStream: could not check the stored message'),
    );
  });

  return follow.iterator<MessageStreamEvent>(async () => {
    for (;;) {
      if (follow.ended) return FOLLOW_DONE;
      const entry = queue.shift();
      if (!entry) {
        await follow.wait();
        continue;
      }
      if (entry.seq <= lastSeq) continue;
      lastSeq = entry.seq;
      if (entry.kind === 'delta') return { done: false, value: { messageId, seq: entry.seq, delta: entry.delta, done: false, message: null } };
      // The reader is no longer needed once `done` is here; the final message is read before it is handed out.
      unsubscribe();
      const message = await options.load();
      follow.end();
      return { done: false, value: { messageId, seq: entry.seq, delta: '', done: true, message } };
    }
  });
}

/**
 * messageStream(messageId, afterSeq): only the owner may follow a message (NOT_FOUND for anyone else, exactly as
 * for a missing id). Replays events with seq > afterSeq, then follows live, and ends after `done`. When the
 * stream already expired from Redis (STREAM_RETENTION_SECONDS after the end), the subscriber gets a single `done`
 * event with the stored message.
 */
export async function watchMessageStream(scope: ConversationScope, messageId: string, afterSeq: number | null | undefined): Promise<AsyncIterableIterator<MessageStreamEvent>> {
  if (afterSeq != null && (!Number.isInteger(afterSeq) || afterSeq < 0)) throw badUserInput('afterSeq must be a whole number of 0 or more', { field: 'afterSeq' });
  const load = () => scope.messages.findById(messageId);
  // A generation still running has its record in Redis (tenant and owner included): a subscriber who follows its
  // own live answer — the usual case, right after sendMessage — starts without a MySQL read, and without even a
  // Redis read when this process runs the generation.
  const live = scope.services.runner.generation(messageId) ?? (await scope.services.registry.read(messageId));
  if (live && live.tenantId === scope.tenantId && live.userId === scope.userId) {
    return createIterator({ services: scope.services, messageId, afterSeq: afterSeq ?? 0, load, expired: false });
  }
  const message = await load();
  if (!message || message.userId !== scope.userId) throw notFound('Message');
  if (message.role !== 'ASSISTANT') throw badUserInput('Only assistant messages have a stream', { field: 'messageId' });
  const expired = message.status !== 'STREAMING' && !(await scope.services.streams.exists(messageId));
  return createIterator({ services: scope.services, messageId, afterSeq: afterSeq ?? 0, load, expired });
}
