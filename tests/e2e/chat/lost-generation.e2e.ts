// A generation whose Redis record is lost (issue 10): Redis restarted without persistence, evicted or flushed the
// keys while the answer was being generated. The MySQL-side sweep finds the STREAMING answer without a record, and
// the message ends FAILED with its hold settled or released; subscribers get `done`; regenerate works afterwards. A
// stream lost with the record is written again by the process still generating it, so no text a subscriber saw is lost.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import {
  balanceOf,
  CREATE_CONVERSATION,
  createChatUser,
  disposeClients,
  expectData,
  expectWellFormedStream,
  joinDeltas,
  openStream,
  readStream,
  REGENERATE,
  SEND_MESSAGE,
  withTimeout,
  type ChatUser,
  type StreamEvent,
} from '../../src/chat-helpers.ts';

let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph({
    env: { GENERATION_LEASE_SECONDS: '2', GENERATION_SWEEP_INTERVAL_SECONDS: '1' },
    // Long, slow answers: the keys are deleted while tokens are still coming.
    simulator: { tokenDelayMs: 40, minDeltas: 400 },
  });
});

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await sg?.stop();
});

async function startAnswer(user: ChatUser) {
  const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
  const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId, content: 'Tell me a long story' } })).sendMessage;
  const stream = openStream(user.ws(), sent.assistantMessage.id);
  await stream.waitForEvents(3);
  return { conversationId, messageId: sent.assistantMessage.id as string, stream };
}

/**
 * The ending both cases share: a well-formed stream to `done`, FAILED INTERRUPTED (the server writing it went away)
 * with the text the subscriber was given, non-empty, stored so and settled for it.
 */
async function expectInterruptedWithText(messageId: string, events: StreamEvent[]) {
  const final = expectWellFormedStream(events);
  expect(final.status).toBe('FAILED');
  expect(final.errorCode).toBe('INTERRUPTED');
  expect(final.content).toBe(joinDeltas(events));
  expect(final.content.length).toBeGreaterThan(0);
  const stored = await sg.db.message.findUniqueOrThrow({ where: { id: messageId } });
  const reservation = await sg.db.reservation.findFirstOrThrow({ where: { referenceId: messageId } });
  expect(reservation.status).toBe('SETTLED');
  expect(stored.creditsCharged).toBe(reservation.settledAmount);
  return { final, stored, reservation };
}

describe('a generation whose Redis record is lost', () => {
  it('ends FAILED with the text of its stream, charged for it, and the turn can be regenerated', async () => {
    const user = await createChatUser(sg, 1_000);
    const { messageId, stream } = await startAnswer(user);
    expect(await sg.redis.del(`chat:gen:{${messageId}}`)).toBe(1);

    const events = await withTimeout(stream.finished, 20_000, 'the stream to end');
    const { stored } = await expectInterruptedWithText(messageId, events);
    expect(stored.status).toBe('FAILED');
    expect((await balanceOf(sg.db, user.id)).reserved).toBe(0);

    // The turn is no longer "still being generated": regenerate answers normally.
    const regenerated = expectData(await user.call(REGENERATE, { messageId })).regenerateMessage;
    expect(regenerated.id).not.toBe(messageId);
    await user.call(`mutation Stop($messageId: ID!) { stopGeneration(messageId: $messageId) { id } }`, { messageId: regenerated.id });
    const regeneratedFinal = expectWellFormedStream(await readStream(user.ws(), regenerated.id));
    expect(regeneratedFinal.status).toBe('STOPPED');
  }, 60_000);

  it('keeps the text when the stream was lost with it: the generating process writes it again, the answer ends FAILED with it, charged for it', async () => {
    const user = await createChatUser(sg, 1_000);
    const { messageId, stream } = await startAnswer(user);
    // What a Redis restart without persistence leaves: no record and no stream, while the owner keeps generating.
    // Its next delta finds no stream: instead of starting a new one at a later seq (subscribers would see a gap and
    // lose the beginning), it writes the stream again from the deltas it holds, then learns it lost its lease.
    expect(await sg.redis.del(`chat:gen:{${messageId}}`, `chat:stream:{${messageId}}`)).toBe(2);

    const events = await withTimeout(stream.finished, 20_000, 'the stream to end');
    // Every seq once, in order, up to `done`, and the final text is exactly what the subscriber was given.
    const { final, stored, reservation } = await expectInterruptedWithText(messageId, events);
    expect(stored).toMatchObject({ status: 'FAILED', errorCode: 'INTERRUPTED', content: final.content });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 1_000 - reservation.settledAmount!, reserved: 0 });
  }, 60_000);
});
