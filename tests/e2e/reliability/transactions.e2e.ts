// Transactions under contention (issue 10, item 1): bursts that used to deadlock in MariaDB and answer
// INTERNAL_SERVER_ERROR now queue on the parent row or are run again by @firefly/db's transact(). Real MariaDB,
// Redis, billing and the DashScope simulator; everything through the gateway, as a client would send it.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CREATE_CONVERSATION, createChatUser, disposeClients, expectData, SEND_MESSAGE } from '../../src/chat-helpers.ts';
import { clientOf, codeOf, REGISTER, startIdentitySupergraph, STRONG_PASSWORD, uniqueEmail, type IdentitySupergraph } from '../../src/identity-helpers.ts';
import { emailIndexOf } from '../../src/pii.ts';

const SENDS = 50;
const REGISTRATIONS = 12;
let sg: IdentitySupergraph;

beforeAll(async () => {
  // Enough concurrent generations for one user that none of the 50 is refused for that (RATE_LIMITED would be a
  // documented answer, but it would also keep those sends away from the transaction this test is about).
  // The 50 holds of one account queue on its row in billing, and all 50 requests share this one test process: on a
  // loaded machine the last ones can outlast the default 5 s of a billing call or the gateway's 15 s per subgraph
  // call (30 s for the whole request). Each answers UPSTREAM_UNAVAILABLE (documented, accepted below), but it
  // would blur what this test is about, so all three get more time here.
  sg = await startIdentitySupergraph({
    env: { MAX_CONCURRENT_GENERATIONS_PER_USER: String(SENDS * 2), BILLING_TIMEOUT_MS: '30000', SUBGRAPH_TIMEOUT_MS: '120000', GATEWAY_REQUEST_TIMEOUT_MS: '120000' },
  });
});
afterEach(async () => {
  await disposeClients();
});
afterAll(async () => {
  await sg?.stop();
});

describe('transactions under contention', () => {
  it(`stores ${SENDS} concurrent sendMessage turns of one conversation: none answers INTERNAL_SERVER_ERROR`, { timeout: 180_000 }, async () => {
    const user = await createChatUser(sg, 1_000_000);
    const conversationId = expectData(await user.call(CREATE_CONVERSATION, { input: {} })).createConversation.id as string;

    const responses = await Promise.all(
      Array.from({ length: SENDS }, (_, i) => user.call(SEND_MESSAGE, { input: { conversationId, content: `burst message ${i}` } })),
    );

    // Before transact() and the parent-first lock order, about half of these answered INTERNAL_SERVER_ERROR (a
    // deadlock between two turns' message insert and conversation update). Now a send either stores its turn or,
    // only when billing or the conversation subgraph does not answer in time on a starved machine, fails with the
    // documented UPSTREAM_UNAVAILABLE.
    const failures = responses.flatMap((response) => (response.body.errors ?? []).map((error) => error.extensions?.code));
    expect(failures.filter((code) => code !== 'UPSTREAM_UNAVAILABLE')).toEqual([]);
    const sent = responses.filter((response) => !response.body.errors).map((response) => response.body.data!.sendMessage);
    expect(sent.length).toBeGreaterThan(0);
    // Every turn is whole: a question and its answer, each answer with its own reservation.
    const stored = await sg.db.message.findMany({ where: { conversationId }, select: { id: true, role: true, reservationId: true } });
    const ids = new Set(stored.map((m) => m.id));
    expect(sent.flatMap((s) => [s.userMessage.id, s.assistantMessage.id]).filter((id) => !ids.has(id))).toEqual([]);
    const answers = stored.filter((m) => m.role === 'ASSISTANT');
    expect(stored.length).toBe(answers.length * 2);
    expect(new Set(answers.map((a) => a.reservationId)).size).toBe(answers.length);
  });

  it(`answers ${REGISTRATIONS} concurrent registrations of one email with one account and CONFLICT for the rest`, { timeout: 120_000 }, async () => {
    const email = uniqueEmail('race');
    const responses = await Promise.all(
      Array.from({ length: REGISTRATIONS }, (_, i) =>
        // One client IP each: the per-IP registration limit is not what this test is about.
        clientOf(sg).call(REGISTER, { input: { email, password: STRONG_PASSWORD, displayName: `Racer ${i}` } }),
      ),
    );

    const outcomes = responses.map((response) => (response.body.errors ? codeOf(response) : 'OK'));
    expect(outcomes.filter((o) => o === 'OK')).toHaveLength(1);
    expect(outcomes.filter((o) => o !== 'OK')).toEqual(Array.from({ length: REGISTRATIONS - 1 }, () => 'CONFLICT'));
    expect(await sg.db.user.count({ where: { emailIndex: emailIndexOf(email) } })).toBe(1);
    const winner = responses.find((response) => !response.body.errors)!.body.data!.register.user.id as string;
    expect(await sg.db.credential.count({ where: { userId: winner } })).toBe(1);
  });
});
