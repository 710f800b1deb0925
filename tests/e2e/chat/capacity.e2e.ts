// Issue 15, honest starts: a conversation process at its capacity (GENERATION_CAPACITY) refuses another answer at
// once with RATE_LIMITED and a retry time — nothing reserved, nothing stored, DashScope not called — instead of taking
// it on and answering after the gateway's deadline; and takes answers again once one ended.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, CREATE_CONVERSATION, createChatUser, disposeClients, errorOf, expectData, SEND_MESSAGE, STOP_GENERATION, type ChatUser } from '../../src/chat-helpers.ts';

let sg: Supergraph;

beforeAll(async () => {
  // Slow tokens: the two answers that fill the process stay STREAMING for the whole test (checked, not assumed).
  sg = await startSupergraph({ env: { GENERATION_CAPACITY: '2' }, simulator: { tokenDelayMs: 500 } });
}, 180_000);

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await sg?.stop();
});

/** conversation_generation_starts_refused_total{reason} of the conversation subgraph. */
async function refusedStarts(reason: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', sg.subgraphUrls.conversation))).text();
  const line = text.split('\n').find((l) => l.startsWith('conversation_generation_starts_refused_total{') && l.includes(`reason="${reason}"`));
  return Number(line?.slice(line.lastIndexOf(' ') + 1));
}

async function send(user: ChatUser, content: string) {
  const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;
  return { conversationId, response: await user.call(SEND_MESSAGE, { input: { conversationId, content } }) };
}

describe('a conversation process at capacity', () => {
  it('refuses another start with RATE_LIMITED at once, leaves nothing behind, and starts again once an answer ended', async () => {
    const [alice, bob, carol] = await Promise.all([createChatUser(sg, 100), createChatUser(sg, 100), createChatUser(sg, 100)]);
    const first = await send(alice, 'Tell me a long story');
    const second = await send(bob, 'Tell me another long story');
    const running = [first, second].map(({ response }) => expectData(response).sendMessage.assistantMessage.id as string);
    const upstreamBefore = sg.simulator.requests.filter((r) => r.endpoint === 'generation').length;

    const refused = await send(carol, 'And one more');
    expect(refused.response.body.data?.sendMessage ?? null).toBeNull();
    const error = refused.response.body.errors![0]!;
    expect(errorOf(refused.response).code).toBe('RATE_LIMITED');
    expect(error.extensions?.retryAfterSeconds).toBe(5);
    expect(error.message).toMatch(/busy/);
    // The two answers that fill the process were still running when carol was refused.
    const statuses = await sg.db.message.findMany({ where: { id: { in: running } }, select: { status: true } });
    expect(statuses.map((m) => m.status)).toEqual(['STREAMING', 'STREAMING']);
    // Nothing of carol's start exists: no message, no hold, no upstream request.
    expect(await sg.db.message.count({ where: { conversationId: refused.conversationId } })).toBe(0);
    expect(await sg.db.reservation.count({ where: { userId: carol.id } })).toBe(0);
    expect(await balanceOf(sg.db, carol.id)).toEqual({ available: 100, reserved: 0 });
    expect(sg.simulator.requests.filter((r) => r.endpoint === 'generation').length).toBe(upstreamBefore);
    expect(await refusedStarts('capacity')).toBe(1);

    // One answer ends (stopped): there is room again.
    expect(expectData(await alice.call(STOP_GENERATION, { messageId: running[0] })).stopGeneration.status).toBe('STOPPED');
    const retried = await carol.call(SEND_MESSAGE, { input: { conversationId: refused.conversationId, content: 'And one more' } });
    expect(expectData(retried).sendMessage.assistantMessage.status).toBe('STREAMING');
    await bob.call(STOP_GENERATION, { messageId: running[1] });
  });
});
