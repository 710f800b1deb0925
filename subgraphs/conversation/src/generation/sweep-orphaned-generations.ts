import type { Logger } from '@firefly/logger';
import type { ConversationServices } from '../services.ts';
import type { GenerationOutput } from './endings.ts';
import { finishGeneration } from './finish-generation.ts';
import type { StreamEntry } from './ports.ts';

/**
 * Finishes generations whose process died (its lease expired without renewal; never one this process is still
 * running): the message ends `orphaned`
 * (FAILED) with the text that had reached the Redis Stream, its usage from the last delta, and the credits settled
 * for what was generated. Any number of replicas may sweep at once: the takeover is one atomic script, so exactly
 * one finishes each message. Resolves with the number finished.
 */
export async function sweepOrphanedGenerations(services: ConversationServices, options: { logger: Logger; batchSize?: number }): Promise<number> {
  const candidates = await services.registry.expiredCandidates(options.batchSize ?? 50);
  let finished = 0;
  for (const messageId of candidates) {
    try {
      if (await finishOrphan(services, messageId, options.logger)) finished += 1;
    } catch (error) {
      options.logger.error({ err: error, messageId }, 'could not finish an orphaned generation');
    }
  }
  if (finished > 0) options.logger.warn({ finished }, 'finished generations whose process died');
  return finished;
}

/**
 * The MySQL side of the sweep: a STREAMING answer always has a generation record in Redis (the record is written
 * before the message row, and removed only after the message is finished). If Redis lost it — a restart without
 * persistence, eviction, a flush — nothing would ever finish the message: it would stay STREAMING, regenerate would
 * answer CONFLICT for good and subscribers would wait forever. So answers STREAMING for longer than a lease whose
 * record is missing get it back, owned by nobody and expiring in one lease: a still-running owner sees the foreign
 * owner at its next heartbeat and gives up, and the Redis-side sweep then finishes the message (FAILED, settled for
 * the text that survived in the stream or released). The MySQL read and the restores are not one atomic step: an
 * answer that finishes in between (common under load) has `done` at the end of its stream and is left alone.
 * Resolves with the number of records restored.
 */
export async function restoreLostGenerations(services: ConversationServices, options: { logger: Logger; batchSize?: number }): Promise<number> {
  const candidates = await services.turns.listStreaming(new Date(Date.now() - services.settings.leaseMs), options.batchSize ?? 100);
  let restored = 0;
  for (const record of candidates) {
    try {
      if (await services.registry.restore(record)) restored += 1;
    } catch (error) {
      options.logger.error({ err: error, messageId: record.messageId }, 'could not restore a lost generation record');
    }
  }
  if (restored > 0) options.logger.warn({ restored }, 'restored the generation records Redis lost; the orphan sweep finishes those messages');
  return restored;
}

async function finishOrphan(services: ConversationServices, messageId: string, logger: Logger): Promise<boolean> {
  const { registry } = services;
  // This process runs it: the generation is alive, only its heartbeat is late (an event loop busy for longer than
  // a lease under load delays the renewal and the sweep alike). Taking it over would end a healthy answer FAILED.
  if (services.runner.isRunning(messageId)) return false;
  const takeover = await registry.takeover(messageId, `${services.instanceId}:sweeper`);
  if (takeover === 'gone') {
    await registry.dropIndexEntry(messageId);
    return false;
  }
  if (takeover === 'alive') return false;

  const record = await registry.read(messageId);
  if (!record) {
    await registry.dropIndexEntry(messageId);
    return false;
  }
  const entries = await services.streams.readAll(messageId);
  const message = await services.turns.find(record);
  if (!message) {
    // The process died after reserving and recording the lease but before storing the messages.
    await services.credits.release({ tenantId: record.tenantId, reservationId: record.reservationId }).catch((error: unknown) => {
      logger.warn({ err: error, messageId }, 'could not release the hold of a generation never stored; billing releases it at expiry');
    });
    await registry.remove(record);
    return false;
  }

  const { output, hasDone } = outputOf(entries);
  if (message.status !== 'STREAMING') {
    // The owner got as far as the final write (credits included); only the stream's end or the cleanup is missing.
    if (!hasDone) await services.streams.appendDone(messageId, output.lastSeq + 1, message.status).catch(() => undefined);
    await registry.remove(record);
    return false;
  }
  logger.warn({ messageId, deltas: output.lastSeq }, 'generation lease expired: finishing the message as FAILED');
  await finishGeneration(services, record, output, { kind: 'orphaned' });
  return true;
}

/**
 * What a stream holds: the text so far, the usage of its last delta, and whether it already has its `done`. A stream
 * that does not start at seq 1 lost its beginning with Redis: its text would be a fragment, so nothing is kept or
 * charged (usage null releases the hold), and `done` still follows its last seq.
 */
function outputOf(entries: readonly StreamEntry[]): { output: GenerationOutput; hasDone: boolean } {
  const output: GenerationOutput = { content: '', usage: null, lastSeq: 0 };
  let hasDone = false;
  if (entries.length > 0 && entries[0]!.seq !== 1) {
    return { output: { ...output, lastSeq: entries.at(-1)!.seq }, hasDone: entries.some((entry) => entry.kind === 'done') };
  }
  for (const entry of entries) {
    output.lastSeq = entry.seq;
    if (entry.kind === 'done') {
      hasDone = true;
      continue;
    }
    output.content += entry.delta;
    if (entry.inputTokens !== null && entry.outputTokens !== null) output.usage = { inputTokens: entry.inputTokens, outputTokens: entry.outputTokens };
  }
  return { output, hasDone };
}
