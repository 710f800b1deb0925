// Streaming AI chat end to end (issue 5): real MariaDB and Redis, the DashScope simulator behind the real client,
// billing's reservations, mutations through the gateway and messageStream over the conversation subgraph's own
// graphql-ws. Process death and cross-replica stop live in replicas.e2e.ts.
//
// Also part of issue 5, elsewhere:
// - the SSE parser against recorded protocol samples, with chunk boundaries that split lines and multi-byte
//   characters: packages/dashscope/src/__tests__/sse-parser.test.ts (and the client against the simulator: client.test.ts);
// - context building never over the budget, and the token estimate never under the simulator's:
//   subgraphs/conversation/src/__tests__/build-context.test.ts and token-estimate.test.ts.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { estimatePromptTokens, estimateTokens } from '@firefly/dashscope-simulator';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import {
  balanceOf,
  CONVERSATION,
  CREATE_CONVERSATION,
  createChatUser,
  DELETE_CONVERSATION,
  disposeClients,
  errorOf,
  expectData,
  expectedChatCost,
  expectWellFormedStream,
  joinDeltas,
  metricValue,
  openStream,
  readStream,
  REGENERATE,
  SEND_MESSAGE,
  STOP_GENERATION,
  UPDATE_CONVERSATION,
  waitFor,
  type ChatUser,
} from '../../src/chat-helpers.ts';

const TINY_MODEL = `qwen-tiny-${randomUUID().slice(0, 8)}`;
let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph({
    env: { GENERATION_LEASE_SECONDS: '2', GENERATION_SWEEP_INTERVAL_SECONDS: '1', MAX_CONCURRENT_GENERATIONS_PER_USER: '2' },
  });
  // A model with a small input window, to see the context budget at work (the simulator serves any qwen* id).
  await sg.db.chatModel.create({ data: { id: TINY_MODEL, name: 'Tiny test model', maxInputTokens: 300, maxOutputTokens: 64, active: true, sortOrder: 999 } });
  await sg.db.chatPrice.create({ data: { modelId: TINY_MODEL, inputPer1kTokens: 1, outputPer1kTokens: 2 } });
});

afterEach(async () => {
  await disposeClients();
});

afterAll(async () => {
  await sg?.stop();
  await sg?.db.chatPrice.deleteMany({ where: { modelId: TINY_MODEL } }).catch(() => undefined);
});

async function newConversation(user: ChatUser, input: Record<string, unknown> = {}): Promise<string> {
  return expectData(await user.call(CREATE_CONVERSATION, { input })).createConversation.id;
}

async function send(user: ChatUser, conversationId: string, content: string) {
  return expectData(await user.call(SEND_MESSAGE, { input: { conversationId, content } })).sendMessage as {
    userMessage: { id: string; status: string; content: string };
    assistantMessage: { id: string; status: string; content: string };
  };
}

/** The simulator's record of the chat request whose last user message contains `nonce`. */
function upstreamRequest(nonce: string) {
  const matches = sg.simulator.requests.filter((r) => r.endpoint === 'generation' && JSON.stringify(r.body).includes(nonce));
  return { matches, last: matches.at(-1) as (typeof matches)[number] & { body: { input: { messages: { role: string; content: string }[] }; parameters: Record<string, unknown> } } };
}

describe('conversations', () => {
  it('creates with the catalog default model, validates against the model, updates, and soft-deletes', async () => {
    const user = await createChatUser(sg, 10);
    const created = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation;
    expect(created.title).toBe('New conversation');
    expect(created.model.id).toBe('qwen-turbo');
    expect(created.parameters).toEqual({ temperature: null, topP: null, maxTokens: null, enableSearch: false });

    const bad = async (input: Record<string, unknown>) => errorOf(await user.call(CREATE_CONVERSATION, { input }));
    expect(await bad({ parameters: { maxTokens: 9_000 } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters.maxTokens' });
    expect(await bad({ parameters: { temperature: 2 } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters.temperature' });
    expect(await bad({ parameters: { topP: 0 } })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters.topP' });
    expect(await bad({ modelId: 'no-such-model' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    expect(await bad({ modelId: TINY_MODEL, systemPrompt: 'word '.repeat(200) })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'systemPrompt' });
    expect(await bad({ title: '   ' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });

    const updated = expectData(
      await user.call(UPDATE_CONVERSATION, { id: created.id, input: { title: 'Fireflies', systemPrompt: 'Answer briefly.', parameters: { temperature: 0.3, maxTokens: 512 } } }),
    ).updateConversation;
    expect(updated).toMatchObject({ title: 'Fireflies', systemPrompt: 'Answer briefly.', parameters: { temperature: 0.3, topP: null, maxTokens: 512, enableSearch: false } });
    // Switching to a model with a smaller output limit re-checks the kept parameters.
    expect(errorOf(await user.call(UPDATE_CONVERSATION, { id: created.id, input: { modelId: TINY_MODEL } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'parameters.maxTokens' });

    const stranger = await createChatUser(sg, 0);
    expect(errorOf(await stranger.call(UPDATE_CONVERSATION, { id: created.id, input: { title: 'mine now' } })).code).toBe('NOT_FOUND');
    expect(errorOf(await stranger.call(DELETE_CONVERSATION, { id: created.id })).code).toBe('NOT_FOUND');

    expect(expectData(await user.call(DELETE_CONVERSATION, { id: created.id })).deleteConversation).toBe(true);
    expect(expectData(await user.call(CONVERSATION, { id: created.id })).conversation).toBeNull();
    const row = await sg.db.conversation.findUniqueOrThrow({ where: { id: created.id } });
    expect(row.deletedAt).toBeInstanceOf(Date);
    expect(errorOf(await user.call(DELETE_CONVERSATION, { id: created.id })).code).toBe('NOT_FOUND');
  });
});

describe('sendMessage and messageStream', () => {
  it('streams every seq in order and ends with the final message, its usage, and credits settled exactly', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const nonce = randomUUID().slice(0, 8);
    const { userMessage, assistantMessage } = await send(user, conversationId, `How do fireflies make light? (${nonce})\nPlease explain.`);
    expect(userMessage.status).toBe('COMPLETED');
    expect(assistantMessage).toMatchObject({ status: 'STREAMING', content: '' });

    const events = await readStream(user.ws(), assistantMessage.id);
    const final = expectWellFormedStream(events);
    expect(events.length - 1).toBeGreaterThanOrEqual(20);
    expect(final).toMatchObject({ id: assistantMessage.id, status: 'COMPLETED', error: null, errorCode: null });
    expect(final.content).toBe(joinDeltas(events));

    // The usage is what the simulator reported (its own documented estimate of what it received and sent).
    const { last: request } = upstreamRequest(nonce);
    expect(request.body.parameters).toMatchObject({ incremental_output: true, result_format: 'message', max_tokens: 8192 });
    const inputTokens = estimatePromptTokens(request.body.input.messages.map((m) => m.content));
    const outputTokens = estimateTokens(final.content);
    expect(final.usage).toEqual({ inputTokens, outputTokens, totalTokens: inputTokens + outputTokens });

    const cost = await expectedChatCost(sg.db, 'qwen-turbo', { inputTokens, outputTokens });
    expect(cost).toBeGreaterThan(0);
    expect(final.creditsCharged).toBe(cost);
    const ledger = await sg.db.ledgerEntry.findMany({ where: { userId: user.id, reason: 'CHAT_USAGE' } });
    expect(ledger).toHaveLength(1);
    expect(ledger[0]).toMatchObject({ delta: -cost, balanceAfter: 100 - cost, referenceId: assistantMessage.id });
    const reservation = await sg.db.reservation.findFirstOrThrow({ where: { referenceId: assistantMessage.id } });
    expect(reservation).toMatchObject({ status: 'SETTLED', settledAmount: cost });
    expect(reservation.amount).toBeGreaterThanOrEqual(cost);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - cost, reserved: 0 });

    // The first message named the conversation; the messages are stored newest last.
    const conversation = expectData(await user.call(CONVERSATION, { id: conversationId })).conversation;
    expect(conversation.title).toBe(`How do fireflies make light? (${nonce})`);
    expect(conversation.messages.edges.map((e: any) => [e.node.id, e.node.status])).toEqual([
      [userMessage.id, 'COMPLETED'],
      [assistantMessage.id, 'COMPLETED'],
    ]);
    await waitFor(async () => (await metricValue(sg.subgraphUrls.conversation, 'conversation_active_stream_iterators')) === 0, 2_000, 'no open iterator');
  });

  it('a late subscriber replays everything; resuming with afterSeq misses nothing and repeats nothing', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    // A pause after 6 deltas leaves time to drop the first subscriber and resume mid-stream.
    const { assistantMessage } = await send(user, conversationId, 'Tell me about lanterns [sim-fault:stall;afterDeltas=6;ms=600]');
    const client = user.ws();

    const first = openStream(client, assistantMessage.id);
    await first.waitForEvents(3);
    first.close();
    const seen = first.events.slice(0, 3);
    const resumed = await readStream(client, assistantMessage.id, 3);
    expectWellFormedStream(resumed, 3);
    const all = [...seen, ...resumed];
    expect(all.map((e) => e.seq)).toEqual(all.map((_, i) => i + 1));

    // After completion: a full replay, and a replay from the middle.
    const replay = await readStream(client, assistantMessage.id);
    expect(replay).toEqual(all);
    const tail = await readStream(client, assistantMessage.id, all.length - 3);
    expect(tail).toEqual(all.slice(-3));
    expect(joinDeltas(all)).toBe(all.at(-1)!.message!.content);

    // Finished streams expire from Redis after STREAM_RETENTION_SECONDS (default 3600); the stored message stays the
    // record, and a subscriber after that gets one `done` event carrying it.
    const key = `chat:stream:{${assistantMessage.id}}`;
    const ttl = await sg.redis.ttl(key);
    expect(ttl).toBeGreaterThan(3_500);
    expect(ttl).toBeLessThanOrEqual(3_600);
    await sg.redis.del(key);
    const expired = await readStream(client, assistantMessage.id);
    expect(expired).toEqual([{ ...all.at(-1)!, seq: 1 }]);
    expect((await readStream(client, assistantMessage.id, 7)).map((e) => [e.seq, e.done])).toEqual([[8, true]]);
  });

  it('unsubscribing ends the iterator at once and never stops the generation', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const { assistantMessage } = await send(user, conversationId, 'Count the stars [sim-fault:stall;afterDeltas=3;ms=500]');
    const client = user.ws();
    const stream = openStream(client, assistantMessage.id);
    await stream.waitForEvents(3);
    // The stream now waits on a stalled upstream: nothing will arrive for a while.
    expect(await metricValue(sg.subgraphUrls.conversation, 'conversation_active_stream_iterators')).toBe(1);
    stream.close();
    await waitFor(async () => (await metricValue(sg.subgraphUrls.conversation, 'conversation_active_stream_iterators')) === 0, 300, 'the iterator to end at once');

    const final = await waitFor(async () => {
      const row = await sg.db.message.findUniqueOrThrow({ where: { id: assistantMessage.id } });
      return row.status === 'STREAMING' ? null : row;
    }, 5_000);
    expect(final.status).toBe('COMPLETED');
  });

  it('stopGeneration aborts upstream, keeps the partial answer as STOPPED and charges what was generated', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const nonce = randomUUID().slice(0, 8);
    const { assistantMessage } = await send(user, conversationId, `Write a long story ${nonce} [sim-fault:stall;afterDeltas=5]`);
    const stream = openStream(user.ws(), assistantMessage.id);
    await stream.waitForEvents(5);

    const stopped = expectData(await user.call(STOP_GENERATION, { messageId: assistantMessage.id })).stopGeneration;
    expect(stopped.status).toBe('STOPPED');
    expect(stopped.content).toBe(joinDeltas(stream.events.slice(0, 5)));
    const events = await stream.finished;
    const final = expectWellFormedStream(events);
    expect(final.status).toBe('STOPPED');
    expect(events).toHaveLength(6);

    const { last: request } = upstreamRequest(nonce);
    await waitFor(async () => request.outcome === 'client-closed', 2_000, 'the upstream request to be aborted');
    const inputTokens = estimatePromptTokens(request.body.input.messages.map((m) => m.content));
    expect(stopped.usage).toMatchObject({ inputTokens, outputTokens: estimateTokens(stopped.content) });
    const cost = await expectedChatCost(sg.db, 'qwen-turbo', stopped.usage);
    expect(stopped.creditsCharged).toBe(cost);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - cost, reserved: 0 });
    // Stopping again changes nothing.
    expect(expectData(await user.call(STOP_GENERATION, { messageId: assistantMessage.id })).stopGeneration).toEqual(stopped);
  });

  it('an upstream error before the first token (after the client retries) ends FAILED with the hold released', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const nonce = randomUUID().slice(0, 8);
    const { assistantMessage } = await send(user, conversationId, `Hello ${nonce} [sim-fault:serverError;status=503]`);
    const events = await readStream(user.ws(), assistantMessage.id);
    const final = expectWellFormedStream(events);
    expect(events).toHaveLength(1);
    expect(final).toMatchObject({ status: 'FAILED', content: '', creditsCharged: 0, errorCode: 'UPSTREAM_UNAVAILABLE' });
    expect(final.error).toMatch(/^The model service is unavailable right now\. Please try again\. \(ModelUnavailable, request /);
    // Retried before the first token (DASHSCOPE_MAX_RETRIES=2): three attempts.
    expect(upstreamRequest(nonce).matches).toHaveLength(3);
    expect(await sg.db.reservation.findFirstOrThrow({ where: { referenceId: assistantMessage.id } })).toMatchObject({ status: 'RELEASED' });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
  });

  it('an upstream error after the first token ends FAILED with the partial answer kept and the hold released', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const nonce = randomUUID().slice(0, 8);
    const { assistantMessage } = await send(user, conversationId, `Hello ${nonce} [sim-fault:serverError;afterDeltas=4]`);
    const events = await readStream(user.ws(), assistantMessage.id);
    const final = expectWellFormedStream(events);
    expect(events).toHaveLength(5);
    expect(final).toMatchObject({ status: 'FAILED', content: joinDeltas(events), creditsCharged: 0, errorCode: 'UPSTREAM_UNAVAILABLE' });
    expect(final.error).toMatch(/^The model service failed in the middle of the answer\. \(InternalError/);
    // Never retried once text was out.
    expect(upstreamRequest(nonce).matches).toHaveLength(1);
    expect(await sg.db.reservation.findFirstOrThrow({ where: { referenceId: assistantMessage.id } })).toMatchObject({ status: 'RELEASED' });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
  });

  it('data inspection: a rejected question and an answer cut by output moderation end FAILED with a readable error', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const input = (await send(user, conversationId, 'sim:inspection please')).assistantMessage;
    const rejected = expectWellFormedStream(await readStream(user.ws(), input.id));
    expect(rejected).toMatchObject({ status: 'FAILED', content: '', creditsCharged: 0, errorCode: 'CONTENT_REJECTED' });
    expect(rejected.error).toMatch(/^The message was rejected by content moderation\. \(DataInspectionFailed/);

    const output = (await send(user, conversationId, 'sim:output-inspection please')).assistantMessage;
    const events = await readStream(user.ws(), output.id);
    const cut = expectWellFormedStream(events);
    expect(cut).toMatchObject({ status: 'FAILED', content: joinDeltas(events), creditsCharged: 0, errorCode: 'CONTENT_REJECTED' });
    expect(cut.content).not.toBe('');
    expect(cut.error).toMatch(/^The answer was stopped by content moderation\./);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
  });

  it('refuses a user without enough credits: nothing kept (the turn stored while billing answered is removed), nothing sent upstream', async () => {
    const user = await createChatUser(sg, 0);
    const conversationId = await newConversation(user);
    const before = sg.simulator.requests.length;
    const response = await user.call(SEND_MESSAGE, { input: { conversationId, content: 'Am I rich?' } });
    expect(errorOf(response).code).toBe('INSUFFICIENT_CREDITS');
    expect(sg.simulator.requests.length).toBe(before);
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(0);
    expect(await sg.db.reservation.count({ where: { userId: user.id } })).toBe(0);
    // The refused question neither named the conversation nor moved it up the list.
    expect(await sg.db.conversation.findUniqueOrThrow({ where: { id: conversationId }, select: { title: true, lastMessageAt: true } })).toEqual({ title: '', lastMessageAt: null });
  });

  it("refuses another user's stream, stop and send as NOT_FOUND", async () => {
    const owner = await createChatUser(sg, 100);
    const stranger = await createChatUser(sg, 100);
    const conversationId = await newConversation(owner);
    const { assistantMessage } = await send(owner, conversationId, 'A private question');

    const stream = openStream(stranger.ws(), assistantMessage.id);
    const events = await stream.finished;
    expect(events).toEqual([]);
    expect(stream.errors.map((e) => e.extensions?.code)).toEqual(['NOT_FOUND']);
    expect(errorOf(await stranger.call(STOP_GENERATION, { messageId: assistantMessage.id })).code).toBe('NOT_FOUND');
    expect(errorOf(await stranger.call(SEND_MESSAGE, { input: { conversationId, content: 'me too' } })).code).toBe('NOT_FOUND');

    expect(expectWellFormedStream(await readStream(owner.ws(), assistantMessage.id)).status).toBe('COMPLETED');
  });

  it('allows at most MAX_CONCURRENT_GENERATIONS_PER_USER generations at once', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const first = (await send(user, conversationId, 'one [sim-fault:stall;afterDeltas=1]')).assistantMessage;
    const second = (await send(user, conversationId, 'two [sim-fault:stall;afterDeltas=1]')).assistantMessage;
    const refused = await user.call(SEND_MESSAGE, { input: { conversationId, content: 'three' } });
    expect(errorOf(refused).code).toBe('RATE_LIMITED');
    expect(refused.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);

    await user.call(STOP_GENERATION, { messageId: first.id });
    const third = (await send(user, conversationId, 'three')).assistantMessage;
    await user.call(STOP_GENERATION, { messageId: second.id });
    expect(expectWellFormedStream(await readStream(user.ws(), third.id)).status).toBe('COMPLETED');
    expect(await balanceOf(sg.db, user.id).then((b) => b.reserved)).toBe(0);
  });

  it('checks messages against the model: empty, and too long for its input window (BAD_USER_INPUT, field content)', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user, { modelId: TINY_MODEL });
    expect(errorOf(await user.call(SEND_MESSAGE, { input: { conversationId, content: '  \n ' } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content' });
    expect(errorOf(await user.call(SEND_MESSAGE, { input: { conversationId, content: 'firefly '.repeat(300) } }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'content' });
    expect(await sg.db.message.count({ where: { conversationId } })).toBe(0);
  });

  it('builds each prompt from the system prompt and the most recent turns that fit the model input budget', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user, { modelId: TINY_MODEL, systemPrompt: 'You are a concise assistant.' });
    const nonces: string[] = [];
    for (let i = 0; i < 5; i++) {
      const nonce = `turn${i}-${randomUUID().slice(0, 6)}`;
      nonces.push(nonce);
      const { assistantMessage } = await send(user, conversationId, `Question ${nonce}: what is item ${i}?`);
      const final = expectWellFormedStream(await readStream(user.ws(), assistantMessage.id));
      expect(final.status).toBe('COMPLETED');
      // The answer is capped by the model's output limit (64 tokens).
      expect(final.usage!.outputTokens).toBeLessThanOrEqual(64);

      const messages = upstreamRequest(nonce).last.body.input.messages;
      expect(messages[0]).toEqual({ role: 'system', content: 'You are a concise assistant.' });
      expect(messages.at(-1)).toEqual({ role: 'user', content: `Question ${nonce}: what is item ${i}?` });
      // Within the budget by our estimate, hence also by the simulator's (ours never counts fewer).
      expect(estimatePromptTokens(messages.map((m) => m.content))).toBeLessThanOrEqual(Math.floor(300 * 0.95));
      // Whole turns, alternating, the most recent ones.
      expect(messages.slice(1).map((m) => m.role)).toEqual([...Array(messages.length - 2).keys()].map((k) => (k % 2 === 0 ? 'user' : 'assistant')).concat('user'));
      const included = messages.filter((m) => m.role === 'user').map((m) => nonces.find((n) => m.content.includes(n)));
      expect(included).toEqual(nonces.slice(nonces.length - included.length));
    }
    // By the fifth turn the oldest ones no longer fit.
    expect(upstreamRequest(nonces[4]!).last.body.input.messages.some((m) => m.content.includes(nonces[0]!))).toBe(false);
  });

  it('regenerateMessage makes a new answer to the latest question from the history before it', async () => {
    const user = await createChatUser(sg, 100);
    const conversationId = await newConversation(user);
    const first = await send(user, conversationId, 'First question about moths');
    await readStream(user.ws(), first.assistantMessage.id);
    const nonce = randomUUID().slice(0, 8);
    const second = await send(user, conversationId, `Second question ${nonce}`);
    const original = expectWellFormedStream(await readStream(user.ws(), second.assistantMessage.id));

    const again = expectData(await user.call(REGENERATE, { messageId: second.assistantMessage.id })).regenerateMessage;
    expect(again).toMatchObject({ role: 'ASSISTANT', status: 'STREAMING' });
    expect(again.id).not.toBe(second.assistantMessage.id);
    const regenerated = expectWellFormedStream(await readStream(user.ws(), again.id));
    expect(regenerated.status).toBe('COMPLETED');
    const messages = upstreamRequest(nonce).last.body.input.messages;
    expect(messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(messages.some((m) => m.content === original.content)).toBe(false);

    const row = await sg.db.message.findUniqueOrThrow({ where: { id: again.id } });
    expect(row.replyToId).toBe(second.userMessage.id);
    expect(errorOf(await user.call(REGENERATE, { messageId: first.assistantMessage.id })).code).toBe('CONFLICT');
    const stored = expectData(await user.call(CONVERSATION, { id: conversationId })).conversation.messages.edges;
    expect(stored.map((e: any) => e.node.id).at(-1)).toBe(again.id);
  });
});
