import type { Logger } from '@firefly/logger';
import { findMessageForFinish } from '../data/messages.ts';
import type { ChatRuntime } from '../domain/chat-runtime.ts';
import { INTERRUPTED_ERROR } from '../domain/describe-failure.ts';
import { finishGeneration } from '../domain/finish-generation.ts';
import { startIntervalJob, type IntervalJobHandle } from '@firefly/server-kit';

/**
 * Finishes generations whose process died (its lease expired without renewal): the message ends FAILED with the
 * text that had reached the Redis Stream, its usage from the last delta, and the credits settled for what was
 * generated. Any number of replicas may sweep at once: the takeover is one atomic script, so exactly one finishes
 * each message. Resolves with the number finished.
 */
export async function sweepOrphanedGenerations(runtime: ChatRuntime, options: { logger: Logger; batchSize?: number }): Promise<number> {
  const candidates = await runtime.registry.expiredCandidates(options.batchSize ?? 50);
  let finished = 0;
  for (const messageId of candidates) {
    try {
      if (await finishOrphan(runtime, messageId, options.logger)) finished += 1;
    } catch (error) {
      options.logger.error({ err: error, messageId }, 'could not finish an orphaned generation');
    }
  }
  if (finished > 0) options.logger.warn({ finished }, 'finished generations whose process died');
  return finished;
}

async function finishOrphan(runtime: ChatRuntime, messageId: string, logger: Logger): Promise<boolean> {
  const takeover = await runtime.registry.takeover(messageId, `${runtime.instanceId}:sweeper`);
  if (takeover === 'gone') {
    await runtime.registry.dropIndexEntry(messageId);
    return false;
  }
  if (takeover === 'alive') return false;

  const record = await runtime.registry.read(messageId);
  if (!record) {
    await runtime.registry.dropIndexEntry(messageId);
    return false;
  }
  const entries = await runtime.streams.readAll(messageId);
  const message = await findMessageForFinish(runtime.db, record);
  if (!message) {
    // The process died after reserving and recording the lease but before storing the messages.
    await runtime.credits.release({ tenantId: record.tenantId, reservationId: record.reservationId }).catch((error: unknown) => {
      logger.warn({ err: error, messageId }, 'could not release the hold of a generation never stored; billing releases it at expiry');
    });
    await runtime.registry.remove(record);
    return false;
  }

  let content = '';
  let usage: { inputTokens: number; outputTokens: number } | null = null;
  let lastSeq = 0;
  let hasDone = false;
  for (const entry of entries) {
    lastSeq = entry.seq;
    if (entry.kind === 'done') {
      hasDone = true;
      continue;
    }
    content += entry.delta;
    if (entry.inputTokens !== null && entry.outputTokens !== null) usage = { inputTokens: entry.inputTokens, outputTokens: entry.outputTokens };
  }
  if (message.status !== 'STREAMING') {
    // The owner got as far as the final write (credits included); only the stream's end or the cleanup is missing.
    if (!hasDone) await runtime.streams.appendDone(messageId, lastSeq + 1, message.status).catch(() => undefined);
    await runtime.registry.remove(record);
    return false;
  }
  logger.warn({ messageId, deltas: lastSeq }, 'generation lease expired: finishing the message as FAILED');
  await finishGeneration(runtime, record, { status: 'FAILED', content, usage, finishReason: null, error: INTERRUPTED_ERROR, charge: true, lastSeq });
  return true;
}

/** Runs `sweep` every `intervalMs` in the background (see startIntervalJob: never overlapping, failures logged). */
export function startGenerationSweeper(options: { intervalMs: number; sweep: () => Promise<unknown>; logger: Logger }): IntervalJobHandle {
  return startIntervalJob({ name: 'generation sweep', intervalMs: options.intervalMs, run: options.sweep, logger: options.logger });
}
