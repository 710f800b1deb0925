// A generation whose Redis record is lost (issue 10): Redis restarted without persistence, evicted or flushed the
// keys while the answer was being generated. The MySQL-side sweep finds the STREAMING answer without a record, and
// the message ends FAILED with its hold settled or released; subscribers get `done`; regenerate works afterwards.
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

describe('a generation whose Redis record is lost', () => {
  it('ends FAILED with the text of its stream, charged for it, and the turn can be regenerated', async () => {
    const user = await createChatUser(sg, 1_000);
    const { messageId, stream } = await startAnswer(user);
    expect(await sg.redis.del(`chat:gen:{${messageId}}`)).toBe(1);

    const events = await withTimeout(stream.finished, 20_000, 'the stream to end');
    const final = expectWellFormedStream(events);
    expect(final.status).toBe('FAILED');
    // The code a client explains it from: the server writing it went away, the text so far kept.
    expect(final.errorCode).toBe('INTERRUPTED');
    expect(final.content).toBe(joinDeltas(events));
    expect(final.content.length).toBeGreaterThan(0);

    const stored = await sg.db.message.findUniqueOrThrow({ where: { id: messageId } });
    expect(stored.status).toBe('FAILED');
    const reservation = await sg.db.reservation.findFirstOrThrow({ where: { referenceId: messageId } });
    expect(reservation.status).toBe('SETTLED');
    expect(stored.creditsCharged).toBe(reservation.settledAmount);
    expect((await balanceOf(sg.db, user.id)).reserved).toBe(0);

    // The turn is no longer "still being generated": regenerate answers normally.
    const regenerated = expectData(await user.call(REGENERATE, { messageId })).regenerateMessage;
    expect(regenerated.id).not.toBe(messageId);
    await user.call(`mutation Stop($messageId: ID!) { stopGeneration(messageId: $messageId) { id } }`, { messageId: regenerated.id });
    const regeneratedFinal = expectWellFormedStream(await readStream(user.ws(), regenerated.id));
    expect(regeneratedFinal.status).toBe('STOPPED');
  }, 60_000);

  it('ends FAILED and releases the hold when the stream was lost with it; subscribers still get done', async () => {
    const user = await createChatUser(sg, 1_000);
    const { messageId, stream } = await startAnswer(user);
    // What a Redis restart without persistence leaves: no record and no stream (the owner keeps writing deltas).
    expect(await sg.redis.del(`chat:gen:{${messageId}}`, `chat:stream:{${messageId}}`)).toBe(2);

    const events = await withTimeout(stream.finished, 20_000, 'the stream to end');
    const last = events.at(-1)!;
    expect(last.done).toBe(true);
    expect(last.message?.status).toBe('FAILED');
    expect(last.message?.errorCode).toBe('INTERRUPTED');
    // The beginning of the text is gone: nothing of it is kept or charged.
    expect(last.message?.content).toBe('');

    const reservation = await sg.db.reservation.findFirstOrThrow({ where: { referenceId: messageId } });
    expect(reservation.status).toBe('RELEASED');
    expect(await sg.db.ledgerEntry.count({ where: { referenceId: messageId } })).toBe(0);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 1_000, reserved: 0 });
    expect(await sg.db.message.findUniqueOrThrow({ where: { id: messageId } })).toMatchObject({ status: 'FAILED', errorCode: 'INTERRUPTED' });
  }, 60_000);
});
