import { notFound } from '@firefly/errors';
import type { MessageRow } from '../domain/ports.ts';
import type { ConversationScope } from '../domain/scope.ts';
import type { ConversationServices } from '../services.ts';

/**
 * Asks whichever process runs a generation to stop it: directly when it is this one, else over pub/sub; the
 * request is also left in the generation's record for the owner's next heartbeat (pub/sub may drop it).
 */
export async function requestStop(services: ConversationServices, messageId: string): Promise<void> {
  if (services.runner.abort(messageId, 'stop')) return;
  if (await services.registry.requestStop(messageId)) await services.stopSignals.publish(messageId);
}

/** Resolves when the message's stream has its `done` event, or after `timeoutMs`. */
function waitForDone(services: ConversationServices, messageId: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let unsubscribe = () => {};
    const timer = setTimeout(() => {
      unsubscribe();
      resolve();
    }, timeoutMs);
    unsubscribe = services.hub.subscribe(messageId, 0, (entries) => {
      if (entries.some((entry) => entry.kind === 'done')) {
        clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  });
}

/**
 * stopGeneration: aborts the upstream request and waits (a few seconds at most) for the owner to store the partial
 * answer as STOPPED, charged for what was generated. A message that is no longer STREAMING is returned as it is
 * (stopping twice is harmless). If the owner does not confirm in time (it died: its lease will expire and the
 * sweeper finishes the message), the message is returned still STREAMING.
 */
export async function stopGeneration(scope: ConversationScope, messageId: string): Promise<MessageRow> {
  const message = await scope.messages.findById(messageId);
  if (!message || message.userId !== scope.userId || message.role !== 'ASSISTANT') throw notFound('Message');
  if (message.status !== 'STREAMING') return message;
  const done = waitForDone(scope.services, messageId, scope.services.settings.stopWaitMs);
  await requestStop(scope.services, messageId);
  await done;
  return (await scope.messages.findById(messageId)) ?? message;
}
