// Credits spent through a partner's API key are the partner's in billing: the gateway names the partner in the signed
// credential, the conversation and image subgraphs pass it on in their own signed service credential when they take
// the hold, and billing records it on the hold and on the settlement's ledger entry — whether the key acted as the
// partner's account or as a user whose bearer token came with it. Admins read it per entry (LedgerEntry.partner) and
// summed per day (Partner.creditUsage); nobody else sees it, and spending without a key is never tagged.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { callSubgraph, CREATE_CONVERSATION, createChatUser, SEND_MESSAGE, waitFor } from '../../src/chat-helpers.ts';
import { CREATE_IMAGE_JOB, startImageWorker, type TestImageWorker } from '../../src/image-helpers.ts';
import { createAdmin, createKey, createPartner, ok, publishList, type Admin } from '../../src/partner-helpers.ts';

/** wanx2.1-t2i-turbo (seed catalog). */
const TURBO = 'wanx2.1-t2i-turbo';
const LEDGER = `query($id: ID!) { user(id: $id) { ledger(first: 20) { edges { node { delta reason referenceId partner { id name } } } } } }`;
const CREDIT_USAGE = `query($id: ID!, $days: Int) { partner(id: $id) { id creditUsage(days: $days) { day reason credits charges } } }`;

let sg: Supergraph;
let worker: TestImageWorker;
let admin: Admin;

beforeAll(async () => {
  sg = await startSupergraph({ simulator: { taskPendingMs: 100, taskRunningMs: 200, maxConcurrentTasksPerModel: 50 } });
  worker = await startImageWorker(sg);
  admin = await createAdmin(sg);
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await sg?.stop();
});

const codeOf = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;

/** A request with the partner's key (and a user's bearer token when given). */
const withKey = (key: string, query: string, variables: Record<string, unknown>, token?: string) =>
  sg.request(query, { variables, headers: { 'x-api-key': key }, ...(token ? { token } : {}) });

/** Sends one chat message in a new conversation; resolves once billing charged the answer, with its id and cost. */
async function chat(send: (query: string, variables: Record<string, unknown>) => Promise<GraphQLResponse>, content: string) {
  const conversation = ok(await send(CREATE_CONVERSATION, { input: {} })).createConversation;
  const answerId = ok(await send(SEND_MESSAGE, { input: { conversationId: conversation.id, content } })).sendMessage.assistantMessage.id as string;
  const charged = await waitFor(async () => (await sg.db.message.findUniqueOrThrow({ where: { id: answerId } })).creditsCharged, 20_000, 'the answer to be charged');
  return { id: answerId, charged };
}

async function ledgerOf(userId: string) {
  return (ok(await admin.call(LEDGER, { id: userId })).user.ledger.edges as Array<{ node: Record<string, unknown> }>).map((edge) => edge.node);
}

describe("credits spent through a partner's key", () => {
  it('are tagged with the partner on the hold and the ledger entry, as the account and as a user, for chat and images; spending without the key is not', async () => {
    const partner = await createPartner(admin);
    await publishList(admin, partner.id, [CREATE_CONVERSATION, SEND_MESSAGE, CREATE_IMAGE_JOB]);
    const { key } = await createKey(admin, partner.id);
    ok(await admin.call(`mutation($id: ID!) { adjustCredits(userId: $id, delta: 500, note: "partner top-up") { available } }`, { id: partner.accountId }));
    const user = await createChatUser(sg, 300);

    // The key alone: the partner's account pays.
    const asAccount = await chat((query, variables) => withKey(key, query, variables), 'Hello from the partner itself');
    // The key with a user's token: the user pays, through the partner — a chat answer and an image job.
    const asUser = await chat((query, variables) => withKey(key, query, variables, user.token), 'Hello through a partner app');
    const job = ok(await withKey(key, CREATE_IMAGE_JOB, { input: { prompt: `partner painting ${Date.now()}`, model: TURBO, size: '1024*1024', count: 1 } }, user.token)).createImageJob;
    const imageCharged = await waitFor(async () => (await sg.db.imageJob.findUniqueOrThrow({ where: { id: job.id } })).creditsCharged, 30_000, 'the image job to be charged');
    // The same user without the key: nothing to do with the partner.
    const direct = await chat((query, variables) => user.call(query, variables), 'Hello on my own');

    // The holds recorded the partner (from the service credential), and only those taken through the key.
    const holds = await sg.db.reservation.findMany({ where: { referenceId: { in: [asAccount.id, asUser.id, job.id, direct.id] } }, select: { referenceId: true, partnerId: true } });
    expect(Object.fromEntries(holds.map((hold) => [hold.referenceId, hold.partnerId]))).toEqual({
      [asAccount.id]: partner.id,
      [asUser.id]: partner.id,
      [job.id]: partner.id,
      [direct.id]: null,
    });

    // Admins read the partner on each charge, on the account's ledger and on the user's.
    const tagged = { id: partner.id, name: expect.any(String) };
    expect(await ledgerOf(partner.accountId)).toEqual([
      { delta: -asAccount.charged, reason: 'CHAT_USAGE', referenceId: asAccount.id, partner: tagged },
      { delta: 500, reason: 'ADJUSTMENT', referenceId: null, partner: null },
    ]);
    const userLedger = await ledgerOf(user.id);
    expect(userLedger.filter((entry) => entry.reason !== 'GRANT' && entry.reason !== 'ADJUSTMENT')).toEqual([
      { delta: -direct.charged, reason: 'CHAT_USAGE', referenceId: direct.id, partner: null },
      { delta: -imageCharged, reason: 'IMAGE_USAGE', referenceId: job.id, partner: tagged },
      { delta: -asUser.charged, reason: 'CHAT_USAGE', referenceId: asUser.id, partner: tagged },
    ]);
    expect(userLedger.filter((entry) => entry.reason === 'GRANT' || entry.reason === 'ADJUSTMENT').every((entry) => entry.partner === null)).toBe(true);

    // The user reading their own ledger sees their charges, but not the partner (an admin-only field: null, no error).
    const own = await user.call('{ me { ledger(first: 20) { edges { node { reason referenceId partner { id } } } } } }');
    expect(own.body.errors).toBeUndefined();
    const ownEntries = (own.body.data as { me: { ledger: { edges: Array<{ node: { referenceId: string | null; partner: unknown } }> } } }).me.ledger.edges.map((e) => e.node);
    expect(ownEntries.map((entry) => entry.referenceId)).toEqual(expect.arrayContaining([asUser.id, job.id, direct.id]));
    expect(ownEntries.every((entry) => entry.partner === null)).toBe(true);

    // Partner.creditUsage: what the partner's keys spent today, per reason, account and users together.
    const today = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate())).toISOString();
    expect(ok(await admin.call(CREDIT_USAGE, { id: partner.id })).partner.creditUsage).toEqual([
      { day: today, reason: 'CHAT_USAGE', credits: asAccount.charged + asUser.charged, charges: 2 },
      { day: today, reason: 'IMAGE_USAGE', credits: imageCharged, charges: 1 },
    ]);
    // Another partner spent nothing; days is bounded; admins only.
    const other = await createPartner(admin);
    expect(ok(await admin.call(CREDIT_USAGE, { id: other.id })).partner.creditUsage).toEqual([]);
    expect(codeOf(await admin.call(CREDIT_USAGE, { id: partner.id, days: 91 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await admin.call(CREDIT_USAGE, { id: partner.id, days: 0 }))).toBe('BAD_USER_INPUT');
    expect(codeOf(await user.call(CREDIT_USAGE, { id: partner.id }))).toBe('FORBIDDEN');
  });

  it("billing answers a partner's spending in the partner's tenant only", async () => {
    const partner = await createPartner(admin);
    await publishList(admin, partner.id, [CREATE_CONVERSATION, SEND_MESSAGE]);
    const { key } = await createKey(admin, partner.id);
    ok(await admin.call(`mutation($id: ID!) { adjustCredits(userId: $id, delta: 100, note: "top-up") { available } }`, { id: partner.accountId }));
    const spent = await chat((query, variables) => withKey(key, query, variables), 'Hello');
    // Asked straight for the entity (as the gateway's query planner does), in the partner's tenant and in another.
    const entity = `query($r: [_Any!]!) { _entities(representations: $r) { ... on Partner { creditUsage { credits charges } } } }`;
    const ask = (tenantId: string) =>
      callSubgraph(sg.subgraphUrls.billing, sg.internalTokenSecret, { kind: 'service', tenantId, service: 'gateway', requestId: randomUUID() }, entity, { r: [{ __typename: 'Partner', id: partner.id }] });
    expect((await ask('default')).body.data?._entities).toEqual([{ creditUsage: [{ credits: spent.charged, charges: 1 }] }]);
    expect((await ask('partners-elsewhere')).body.data?._entities).toEqual([{ creditUsage: [] }]);
  });
});
