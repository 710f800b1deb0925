// Catalog management by operators: a chat model added by an admin is usable at once on two conversation replicas
// and charged at its price; a price change does not alter what an answer already reserved is charged; an inactive
// model leaves the catalog and takes no new work; bad input names the field; only platform admins may do it.
import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCreditsClient } from '@firefly/credits-client';
import { startDashScopeSimulator, type DashScopeSimulator } from '@firefly/dashscope-simulator';
import { createLogger } from '@firefly/logger';
import type { SubgraphServer } from '@firefly/server-kit';
import { buildImageSubgraph, loadImageConfig } from '@firefly/subgraph-image';
import { callSubgraph, CREATE_CONVERSATION, createChatUser as createUser, disposeClients, expectData, expectWellFormedStream, readStream, SEND_MESSAGE, type ChatUser } from '../../src/chat-helpers.ts';
import { startConversationReplica, type ConversationReplica } from '../../src/chat-replica.ts';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { CREATE_IMAGE_JOB } from '../../src/image-helpers.ts';
import { ensureTenant } from '../../src/tenants.ts';

const UPSERT_CHAT = 'mutation U($input: ChatModelInput!) { upsertChatModel(input: $input) { id name description maxInputTokens maxOutputTokens } }';
const UPSERT_IMAGE = 'mutation U($input: ImageModelInput!) { upsertImageModel(input: $input) { id name sizes maxCount } }';
const CHAT_MODELS = '{ chatModels { id name } }';
const IMAGE_MODELS = '{ imageModels { id name sizes } }';
const CANCEL_IMAGE_JOB = 'mutation C($id: ID!) { cancelImageJob(id: $id) { id status } }';

let sg: Supergraph;
let b: ConversationReplica;
/** Another vendor's OpenAI-compatible endpoint (a second simulator, its compatible mode). */
let compat: DashScopeSimulator;
let adminToken: string;
let user: ChatUser;
/** Every user this file makes, so that afterAll can cancel the image jobs they left QUEUED. */
const fileUsers: ChatUser[] = [];
const createChatUser: typeof createUser = async (...args) => {
  const created = await createUser(...args);
  fileUsers.push(created);
  return created;
};

beforeAll(async () => {
  // Slow enough tokens that an answer is still streaming when the test changes the price.
  compat = await startDashScopeSimulator({ tokenDelayMs: 5, apiKey: 'sk-compat-vendor' });
  const env = { CHAT_PROVIDERS: JSON.stringify([{ name: 'compat', baseUrl: compat.compatibleBaseUrl, apiKey: 'sk-compat-vendor' }]) };
  sg = await startSupergraph({ simulator: { tokenDelayMs: 40 }, env });
  b = await startConversationReplica(sg, env);
  const admin = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
  await sg.db.user.update({ where: { id: admin.user.id }, data: { roles: 'USER,ADMIN' } });
  adminToken = await sg.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] });
  user = await createChatUser(sg, 10_000);
}, 120_000);
afterEach(() => disposeClients());
afterAll(async () => {
  // No image worker runs here, so the jobs this file made stay QUEUED on the run's shared image queue, where another
  // file's worker would take them and settle them through its own billing (its metrics then count them: db1bfd6, 6e38ac3).
  // Cancel them through the API as their owners: the entry leaves the queue and the hold is released.
  if (sg) {
    const open = await sg.db.imageJob.findMany({ where: { userId: { in: fileUsers.map((u) => u.id) }, status: { in: ['QUEUED', 'RUNNING'] } }, select: { id: true, userId: true, tenantId: true } });
    for (const job of open) {
      const owner = fileUsers.find((u) => u.id === job.userId)!;
      const canceled = await sg.request(CANCEL_IMAGE_JOB, { token: owner.token, headers: { 'x-tenant-id': job.tenantId }, variables: { id: job.id } });
      expect(canceled.body.errors, `cancel ${job.id}`).toBeUndefined();
    }
    expect(await sg.db.imageJob.count({ where: { userId: { in: fileUsers.map((u) => u.id) }, status: { in: ['QUEUED', 'RUNNING'] } } })).toBe(0);
  }
  await b?.kill('SIGKILL');
  await sg?.stop();
  await compat?.close();
});

const asAdmin = (query: string, variables: Record<string, unknown>) => sg.request(query, { token: adminToken, variables });
const chatInput = (id: string, overrides: Record<string, unknown> = {}) => ({
  id,
  name: `Ops model ${id}`,
  description: 'Added by an operator',
  maxInputTokens: 8_000,
  maxOutputTokens: 2_000,
  inputPricePer1k: 7,
  outputPricePer1k: 11,
  ...overrides,
});
const catalogIds = async (query: string, key: string) => ((await sg.request(query)).body.data![key] as Array<{ id: string }>).map((model) => model.id);

/** createConversation straight on replica B, as the gateway would route it there. */
async function createOnB(modelId: string) {
  const identity = { kind: 'user' as const, tenantId: 'default', userId: user.id, roles: ['USER' as const], sessionId: randomUUID(), requestId: randomUUID() };
  return callSubgraph(b.url, sg.internalTokenSecret, identity, CREATE_CONVERSATION, { input: { modelId } });
}

/** A request made in `tenantId` (its x-tenant-id), as `token`'s user or anonymously. */
const inTenant = (tenantId: string, query: string, variables: Record<string, unknown> = {}, token?: string) =>
  sg.request(query, { variables, headers: { 'x-tenant-id': tenantId }, ...(token ? { token } : {}) });
/** The model ids of a tenant's catalog as an anonymous caller gets them (the response cache holds that answer). */
const tenantCatalogIds = async (tenantId: string, query: string, key: string) =>
  ((await inTenant(tenantId, query)).body.data![key] as Array<{ id: string }>).map((model) => model.id);
/** A signed-in user of `tenant`, as the gateway's credential names one (for calls straight to a subgraph replica). */
const identityIn = (tenant: string, userId: string) => ({ kind: 'user' as const, tenantId: tenant, userId, roles: ['USER' as const], sessionId: randomUUID(), requestId: randomUUID() });

/**
 * What setTenantChatModel and setTenantImageModel (`set`, selecting `hidden`) both refuse: the tenant's own admin and
 * a user (FORBIDDEN), an unknown model (NOT_FOUND), a malformed tenant id or model id (BAD_USER_INPUT naming it).
 */
async function expectTenantCatalogRefusals(set: string, tenantId: string, modelId: string): Promise<void> {
  const tenantAdmin = await seedUserWithHistory(sg.db, { tenantId, conversations: 0, imageJobs: 0, credits: 0 });
  await sg.db.user.update({ where: { id: tenantAdmin.user.id }, data: { roles: 'USER,ADMIN' } });
  const tenantAdminToken = await sg.tokenFor({ ...tenantAdmin.user, roles: ['USER', 'ADMIN'] });
  expect((await inTenant(tenantId, set, { input: { tenantId, modelId, hidden: false } }, tenantAdminToken)).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect((await user.call(set, { input: { tenantId, modelId, hidden: false } })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect((await asAdmin(set, { input: { tenantId, modelId: 'no-such-model', hidden: true } })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  expect((await asAdmin(set, { input: { tenantId: 'Not Valid!', modelId, hidden: true } })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tenantId' });
  expect((await asAdmin(set, { input: { tenantId, modelId: 'bad id', hidden: true } })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
}

/** A hide then a show of `modelId` for `tenantId`, both in the platform tenant's audit log (`action`, `targetType`). */
async function expectHiddenThenShownAudited(action: string, targetType: string, tenantId: string, modelId: string): Promise<void> {
  const AUDIT = 'query A($action: String) { auditEvents(first: 50, action: $action) { edges { node { action targetType targetId details actor { id } } } } }';
  const events = ((await asAdmin(AUDIT, { action })).body.data!.auditEvents.edges as Array<{ node: { targetId: string; targetType: string; details: unknown } }>)
    .map((edge) => edge.node)
    .filter((event) => event.targetId === modelId)
    .reverse();
  expect(events.map((event) => event.details)).toEqual([
    { tenantId, before: { hidden: false }, after: { hidden: true } },
    { tenantId, before: { hidden: true }, after: { hidden: false } },
  ]);
  for (const event of events) expect(event.targetType).toBe(targetType);
}

describe('upsertChatModel', () => {
  it('a new model is listed and usable at once on both replicas, and an answer is charged at its price', async () => {
    const modelId = `qwen-ops-${randomUUID().slice(0, 8)}`;
    expect(await catalogIds(CHAT_MODELS, 'chatModels')).not.toContain(modelId);
    const created = await asAdmin(UPSERT_CHAT, { input: chatInput(modelId) });
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.upsertChatModel).toMatchObject({ id: modelId, maxInputTokens: 8_000, maxOutputTokens: 2_000 });
    // Listed at once, through the gateway's response cache.
    expect(await catalogIds(CHAT_MODELS, 'chatModels')).toContain(modelId);

    expect(expectData(await createOnB(modelId)).createConversation.model.id).toBe(modelId);
    const conversation = expectData(await user.call(CREATE_CONVERSATION, { input: { modelId } })).createConversation;
    expect(conversation.model.id).toBe(modelId);

    const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId: conversation.id, content: 'Tell me a long story about lanterns' } })).sendMessage;
    const messageId = sent.assistantMessage.id as string;
    // The credits are reserved now; the price goes up while the answer streams.
    const raised = await asAdmin(UPSERT_CHAT, { input: chatInput(modelId, { inputPricePer1k: 900, outputPricePer1k: 900 }) });
    expect(raised.body.errors).toBeUndefined();
    expect((await sg.db.message.findUniqueOrThrow({ where: { id: messageId } })).status).toBe('STREAMING');

    const done = expectWellFormedStream(await readStream(user.ws(), messageId, null, 60_000));
    expect(done.status).toBe('COMPLETED');
    const { inputTokens, outputTokens } = done.usage!;
    const atReservedPrice = Math.ceil((inputTokens * 7 + outputTokens * 11) / 1000);
    expect(done.creditsCharged).toBe(atReservedPrice);
    expect(atReservedPrice).toBeLessThan(Math.ceil((inputTokens * 900 + outputTokens * 900) / 1000));

    const audited = await sg.db.auditEvent.findMany({ where: { action: 'upsertChatModel', targetId: modelId }, orderBy: { createdAt: 'asc' } });
    expect(audited).toHaveLength(2);
    expect(JSON.parse(audited[1]!.details!)).toMatchObject({ inputPricePer1k: 900, before: { name: `Ops model ${modelId}` } });
  }, 120_000);

  it('an inactive model leaves the catalog and takes no new conversation or answer, on either replica', async () => {
    const modelId = `qwen-ops-${randomUUID().slice(0, 8)}`;
    expect((await asAdmin(UPSERT_CHAT, { input: chatInput(modelId) })).body.errors).toBeUndefined();
    const conversation = expectData(await user.call(CREATE_CONVERSATION, { input: { modelId } })).createConversation;
    await sg.request(CHAT_MODELS); // cached now

    expect((await asAdmin(UPSERT_CHAT, { input: chatInput(modelId, { active: false }) })).body.errors).toBeUndefined();
    expect(await catalogIds(CHAT_MODELS, 'chatModels')).not.toContain(modelId);
    for (const answer of [await user.call(CREATE_CONVERSATION, { input: { modelId } }), await createOnB(modelId)]) {
      expect(answer.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    }
    const refused = await user.call(SEND_MESSAGE, { input: { conversationId: conversation.id, content: 'still there?' } });
    expect(refused.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');

    // Back on: usable again.
    expect((await asAdmin(UPSERT_CHAT, { input: chatInput(modelId, { active: true }) })).body.errors).toBeUndefined();
    expect(expectData(await createOnB(modelId)).createConversation.model.id).toBe(modelId);
  });

  it('refuses bad input naming the field, non-admins, and admins of another tenant', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ maxInputTokens: 0 }, 'maxInputTokens'],
      [{ outputPricePer1k: -1 }, 'outputPricePer1k'],
      [{ name: '   ' }, 'name'],
      [{ provider: 'nobody' }, 'provider'],
      [{ id: 'bad id with spaces' }, 'id'],
    ];
    for (const [overrides, field] of cases) {
      const answer = await asAdmin(UPSERT_CHAT, { input: chatInput('qwen-ops-invalid', overrides) });
      expect({ field, extensions: answer.body.errors?.[0]?.extensions }).toMatchObject({ field, extensions: { code: 'BAD_USER_INPUT', field } });
    }
    expect(await sg.db.chatModel.findUnique({ where: { id: 'qwen-ops-invalid' } })).toBeNull();

    expect((await user.call(UPSERT_CHAT, { input: chatInput('qwen-ops-user') })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    await ensureTenant(sg, 'ops-b', { name: 'Ops B' });
    const other = await seedUserWithHistory(sg.db, { tenantId: 'ops-b', conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: other.user.id }, data: { roles: 'USER,ADMIN' } });
    const otherToken = await sg.tokenFor({ ...other.user, roles: ['USER', 'ADMIN'] });
    const foreign = await sg.request(UPSERT_CHAT, { token: otherToken, headers: { 'x-tenant-id': 'ops-b' }, variables: { input: chatInput('qwen-ops-foreign') } });
    expect(foreign.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await sg.db.chatModel.findUnique({ where: { id: 'qwen-ops-foreign' } })).toBeNull();
  });
});

describe('a chat model of an OpenAI-compatible provider', () => {
  it('streams through the compatible endpoint and is charged at its price', async () => {
    const modelId = `qwen-compat-${randomUUID().slice(0, 8)}`;
    const created = await asAdmin(UPSERT_CHAT, { input: chatInput(modelId, { provider: 'compat', inputPricePer1k: 3, outputPricePer1k: 5 }) });
    expect(created.body.errors).toBeUndefined();
    const conversation = expectData(await user.call(CREATE_CONVERSATION, { input: { modelId } })).createConversation;
    const sent = expectData(await user.call(SEND_MESSAGE, { input: { conversationId: conversation.id, content: 'Hello through the compatible mode' } })).sendMessage;
    const events = await readStream(user.ws(), sent.assistantMessage.id as string, null, 60_000);
    const done = expectWellFormedStream(events);
    expect(done.status).toBe('COMPLETED');
    expect(events.length).toBeGreaterThan(2);
    expect(done.content.length).toBeGreaterThan(0);
    expect(done.creditsCharged).toBe(Math.ceil((done.usage!.inputTokens * 3 + done.usage!.outputTokens * 5) / 1000));
    // It went to the compatible endpoint of the other vendor, not to DashScope's native API.
    const upstream = compat.requests.filter((request) => request.endpoint === 'compatible' && JSON.stringify(request.body).includes(modelId));
    expect(upstream).toHaveLength(1);
    expect(upstream[0]!.body).toMatchObject({ model: modelId, stream: true, stream_options: { include_usage: true } });
    expect(sg.simulator.requests.some((request) => JSON.stringify(request.body).includes(modelId))).toBe(false);
  }, 120_000);
});

describe('upsertImageModel', () => {
  it('adds, prices, deactivates and validates image models', async () => {
    const modelId = `wanx-ops-${randomUUID().slice(0, 8)}`;
    const input = { id: modelId, name: 'Ops painter', sizes: ['1024*1024', '720*1280'], maxCount: 2, pricePerImage: 5 };
    const created = await asAdmin(UPSERT_IMAGE, { input });
    expect(created.body.errors).toBeUndefined();
    expect(created.body.data!.upsertImageModel).toEqual({ id: modelId, name: 'Ops painter', sizes: ['1024*1024', '720*1280'], maxCount: 2 });
    expect(await catalogIds(IMAGE_MODELS, 'imageModels')).toContain(modelId);
    expect(await sg.db.imagePrice.findMany({ where: { modelId }, select: { size: true, perImage: true } })).toEqual([{ size: '*', perImage: 5 }]);

    expect((await asAdmin(UPSERT_IMAGE, { input: { ...input, active: false } })).body.errors).toBeUndefined();
    expect(await catalogIds(IMAGE_MODELS, 'imageModels')).not.toContain(modelId);
    const job = await user.call('mutation J($input: CreateImageJobInput!) { createImageJob(input: $input) { id } }', { input: { prompt: 'a lantern', model: modelId } });
    expect(job.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });

    for (const [overrides, field] of [[{ sizes: ['big'] }, 'sizes'], [{ maxCount: 0 }, 'maxCount'], [{ pricePerImage: -1 }, 'pricePerImage']] as const) {
      const answer = await asAdmin(UPSERT_IMAGE, { input: { ...input, ...overrides } });
      expect({ field, extensions: answer.body.errors?.[0]?.extensions }).toMatchObject({ field, extensions: { code: 'BAD_USER_INPUT', field } });
    }
    expect((await user.call(UPSERT_IMAGE, { input })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await sg.db.auditEvent.count({ where: { action: 'upsertImageModel', targetId: modelId } })).toBe(2);
  });
});

describe('setTenantChatModel', () => {
  const SET = 'mutation S($input: TenantChatModelInput!) { setTenantChatModel(input: $input) { tenantId modelId hidden updatedAt } }';

  it('hides a model from one tenant only: out of its catalog (cached answers too) and refused to its new work on both replicas; shown again after', async () => {
    const tenantId = `cat-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId);
    const modelId = `qwen-tenant-${randomUUID().slice(0, 8)}`;
    expect((await asAdmin(UPSERT_CHAT, { input: chatInput(modelId) })).body.errors).toBeUndefined();
    const member = await createChatUser(sg, 10_000, tenantId);
    const tenantCatalog = () => tenantCatalogIds(tenantId, CHAT_MODELS, 'chatModels');
    // Before: the tenant sees the platform's catalog (an anonymous answer the response cache now holds) and uses it.
    expect(await tenantCatalog()).toContain(modelId);
    const earlier = expectData(await inTenant(tenantId, CREATE_CONVERSATION, { input: { modelId } }, member.token)).createConversation;

    const hidden = await asAdmin(SET, { input: { tenantId, modelId, hidden: true } });
    expect(hidden.body.errors).toBeUndefined();
    expect(hidden.body.data!.setTenantChatModel).toMatchObject({ tenantId, modelId, hidden: true });

    // The tenant's catalog no longer lists it, at once (the cached answer was invalidated); the platform's still does.
    expect(await tenantCatalog()).not.toContain(modelId);
    expect(await catalogIds(CHAT_MODELS, 'chatModels')).toContain(modelId);
    // No new conversation or answer with it in the tenant, through the gateway or straight on replica B.
    const refused = await inTenant(tenantId, CREATE_CONVERSATION, { input: { modelId } }, member.token);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    const refusedOnB = await callSubgraph(b.url, sg.internalTokenSecret, identityIn(tenantId, member.id), CREATE_CONVERSATION, { input: { modelId } });
    expect(refusedOnB.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    const send = await inTenant(tenantId, SEND_MESSAGE, { input: { conversationId: earlier.id, content: 'still there?' } }, member.token);
    expect(send.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'modelId' });
    expect(await sg.db.message.count({ where: { conversationId: earlier.id } })).toBe(0);
    // Without a model named, a new conversation gets the tenant's first visible model, not the hidden one.
    expect(expectData(await inTenant(tenantId, CREATE_CONVERSATION, { input: {} }, member.token)).createConversation.model.id).not.toBe(modelId);
    // Other tenants are untouched: the platform tenant's user still starts conversations with it (replica B too).
    expect(expectData(await user.call(CREATE_CONVERSATION, { input: { modelId } })).createConversation.model.id).toBe(modelId);
    expect(expectData(await createOnB(modelId)).createConversation.model.id).toBe(modelId);

    // Only platform admins; the model must exist; bad input names the field.
    await expectTenantCatalogRefusals(SET, tenantId, modelId);

    // Shown again: usable at once.
    expect((await asAdmin(SET, { input: { tenantId, modelId, hidden: false } })).body.data!.setTenantChatModel.hidden).toBe(false);
    expect(await tenantCatalog()).toContain(modelId);
    expect(expectData(await inTenant(tenantId, CREATE_CONVERSATION, { input: { modelId } }, member.token)).createConversation.model.id).toBe(modelId);

    // Both changes are in the platform tenant's audit log, with the admin as actor.
    await expectHiddenThenShownAudited('setTenantChatModel', 'ChatModel', tenantId, modelId);
  });
});

describe('setTenantImageModel', () => {
  const SET = 'mutation S($input: TenantImageModelInput!) { setTenantImageModel(input: $input) { tenantId modelId hidden updatedAt } }';
  /** A second image subgraph replica, built as main.ts builds one, over the same database and Redis. */
  let imageB: SubgraphServer;
  let imageBUrl: string;
  beforeAll(async () => {
    imageB = await buildImageSubgraph(loadImageConfig(sg.imageEnv), {
      db: sg.db,
      redis: sg.redis,
      logger: createLogger({ service: 'image-b', level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      credits: createCreditsClient({ url: sg.subgraphUrls.billing, secret: sg.internalTokenSecret, service: 'image' }),
    });
    imageBUrl = await imageB.listen(0);
  }, 60_000);
  afterAll(async () => {
    await imageB?.stop();
  });

  it('hides a model from one tenant only: out of its imageModels (cached answers too) and refused new jobs on both replicas; shown again after', async () => {
    const tenantId = `img-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId);
    const modelId = `wanx-tenant-${randomUUID().slice(0, 8)}`;
    expect((await asAdmin(UPSERT_IMAGE, { input: { id: modelId, name: 'Tenant painter', sizes: ['1024*1024'], maxCount: 2, pricePerImage: 5 } })).body.errors).toBeUndefined();
    const member = await createChatUser(sg, 10_000, tenantId);
    const tenantCatalog = () => tenantCatalogIds(tenantId, IMAGE_MODELS, 'imageModels');
    const job = (prompt: string) => ({ input: { prompt, model: modelId } });
    // Before: the tenant sees the platform's catalog (an anonymous answer the response cache now holds) and uses it.
    expect(await tenantCatalog()).toContain(modelId);
    expect(expectData(await inTenant(tenantId, CREATE_IMAGE_JOB, job('a lantern before'), member.token)).createImageJob.status).toBe('QUEUED');

    const hidden = await asAdmin(SET, { input: { tenantId, modelId, hidden: true } });
    expect(hidden.body.errors).toBeUndefined();
    expect(hidden.body.data!.setTenantImageModel).toMatchObject({ tenantId, modelId, hidden: true });

    // The tenant's catalog no longer lists it, at once (the cached answer was invalidated), on replica B too; the
    // platform's still does.
    expect(await tenantCatalog()).not.toContain(modelId);
    const onB = expectData(await callSubgraph(imageBUrl, sg.internalTokenSecret, identityIn(tenantId, member.id), IMAGE_MODELS)).imageModels as Array<{ id: string }>;
    expect(onB.map((model) => model.id)).not.toContain(modelId);
    expect(await catalogIds(IMAGE_MODELS, 'imageModels')).toContain(modelId);
    // No new job with it in the tenant, through the gateway or straight on replica B; nothing held or stored.
    const refused = await inTenant(tenantId, CREATE_IMAGE_JOB, job('a lantern after'), member.token);
    expect(refused.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });
    const refusedOnB = await callSubgraph(imageBUrl, sg.internalTokenSecret, identityIn(tenantId, member.id), CREATE_IMAGE_JOB, job('a lantern on B'));
    expect(refusedOnB.body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'model' });
    expect(await sg.db.imageJob.count({ where: { tenantId, userId: member.id } })).toBe(1);
    // Without a model named, a job gets the tenant's first visible model, not the hidden one.
    expect(expectData(await inTenant(tenantId, CREATE_IMAGE_JOB, { input: { prompt: 'any model' } }, member.token)).createImageJob.model).not.toBe(modelId);
    // Other tenants are untouched: the platform tenant's user still creates jobs with it (replica B too).
    expect(expectData(await user.call(CREATE_IMAGE_JOB, job('a platform lantern'))).createImageJob.model).toBe(modelId);
    const platformOnB = await callSubgraph(imageBUrl, sg.internalTokenSecret, identityIn('default', user.id), CREATE_IMAGE_JOB, job('a platform lantern on B'));
    expect(expectData(platformOnB).createImageJob.model).toBe(modelId);

    // Only platform admins; the model must exist; bad input names the field.
    await expectTenantCatalogRefusals(SET, tenantId, modelId);

    // Shown again: listed and usable at once, on replica B too.
    expect((await asAdmin(SET, { input: { tenantId, modelId, hidden: false } })).body.data!.setTenantImageModel.hidden).toBe(false);
    expect(await tenantCatalog()).toContain(modelId);
    const againOnB = await callSubgraph(imageBUrl, sg.internalTokenSecret, identityIn(tenantId, member.id), CREATE_IMAGE_JOB, job('a lantern again'));
    expect(expectData(againOnB).createImageJob.model).toBe(modelId);

    // Both changes are in the platform tenant's audit log, with the admin as actor.
    await expectHiddenThenShownAudited('setTenantImageModel', 'ImageModel', tenantId, modelId);
  });
});

describe("a tenant's own prices", () => {
  const SET_CHAT = 'mutation S($input: TenantChatPriceInput!) { setTenantChatPrice(input: $input) { tenantId modelId inputPricePer1k outputPricePer1k validFrom } }';
  const SET_IMAGE = 'mutation S($input: TenantImagePriceInput!) { setTenantImagePrice(input: $input) { tenantId modelId pricePerImage validFrom } }';
  const AUDIT = 'query A($action: String) { auditEvents(first: 50, action: $action) { edges { node { targetId details } } } }';

  it("an answer of the tenant's user is charged at the tenant's price in force when it was reserved; other tenants pay the platform's", async () => {
    const tenantId = `price-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId);
    const modelId = `qwen-tprice-${randomUUID().slice(0, 8)}`;
    expect((await asAdmin(UPSERT_CHAT, { input: chatInput(modelId) })).body.errors).toBeUndefined(); // platform: 7 / 11
    const member = await createChatUser(sg, 10_000, tenantId);
    const answer = async (content: string, whileStreaming?: () => Promise<void>) => {
      const conversation = expectData(await inTenant(tenantId, CREATE_CONVERSATION, { input: { modelId } }, member.token)).createConversation;
      const sent = expectData(await inTenant(tenantId, SEND_MESSAGE, { input: { conversationId: conversation.id, content } }, member.token)).sendMessage;
      await whileStreaming?.();
      const done = expectWellFormedStream(await readStream(member.ws(), sent.assistantMessage.id as string, null, 60_000));
      expect(done.status).toBe('COMPLETED');
      return { charged: done.creditsCharged as number, at: (input: number, output: number) => Math.ceil((done.usage!.inputTokens * input + done.usage!.outputTokens * output) / 1000) };
    };

    const set = await asAdmin(SET_CHAT, { input: { tenantId, modelId, inputPricePer1k: 2, outputPricePer1k: 3 } });
    expect(set.body.errors).toBeUndefined();
    expect(set.body.data!.setTenantChatPrice).toMatchObject({ tenantId, modelId, inputPricePer1k: 2, outputPricePer1k: 3 });

    // Reserved at the tenant's 2 / 3; the tenant's price goes up while the answer streams: still charged at 2 / 3.
    const first = await answer('Tell me a long story about lanterns', async () => {
      expect((await asAdmin(SET_CHAT, { input: { tenantId, modelId, inputPricePer1k: 900, outputPricePer1k: 900 } })).body.errors).toBeUndefined();
    });
    expect(first.charged).toBe(first.at(2, 3));
    expect(first.charged).toBeLessThan(first.at(900, 900));

    // Back to the platform's price (both null): the next answer pays 7 / 11.
    const ended = await asAdmin(SET_CHAT, { input: { tenantId, modelId, inputPricePer1k: null, outputPricePer1k: null } });
    expect(ended.body.errors).toBeUndefined();
    expect(ended.body.data!.setTenantChatPrice).toBeNull();
    const second = await answer('And another one');
    expect(second.charged).toBe(second.at(7, 11));

    const events = ((await asAdmin(AUDIT, { action: 'setTenantChatPrice' })).body.data!.auditEvents.edges as Array<{ node: { targetId: string; details: unknown } }>)
      .map((edge) => edge.node)
      .filter((event) => event.targetId === modelId)
      .reverse();
    expect(events.map((event) => event.details)).toEqual([
      { tenantId, before: null, after: { inputPricePer1k: 2, outputPricePer1k: 3 } },
      { tenantId, before: { inputPricePer1k: 2, outputPricePer1k: 3 }, after: { inputPricePer1k: 900, outputPricePer1k: 900 } },
      { tenantId, before: { inputPricePer1k: 900, outputPricePer1k: 900 }, after: null },
    ]);
  }, 120_000);

  it("an image job of the tenant's user holds and is priced at the tenant's price per image when it was created", async () => {
    const tenantId = `price-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId);
    const modelId = `wanx-tprice-${randomUUID().slice(0, 8)}`;
    expect((await asAdmin(UPSERT_IMAGE, { input: { id: modelId, name: 'Priced painter', sizes: ['1024*1024'], maxCount: 4, pricePerImage: 5 } })).body.errors).toBeUndefined();
    const member = await createChatUser(sg, 10_000, tenantId);
    const createJob = async (token: string, tenant: string) =>
      expectData(await sg.request(CREATE_IMAGE_JOB, { token, headers: { 'x-tenant-id': tenant }, variables: { input: { prompt: 'a priced lantern', model: modelId, count: 2 } } })).createImageJob.id as string;
    const held = async (jobId: string) => sg.db.imageJob.findUniqueOrThrow({ where: { id: jobId }, select: { creditsHeld: true, creditsPerImage: true } });

    expect((await asAdmin(SET_IMAGE, { input: { tenantId, modelId, pricePerImage: 2 } })).body.data!.setTenantImagePrice).toMatchObject({ pricePerImage: 2 });
    const cheap = await createJob(member.token, tenantId);
    expect(await held(cheap)).toEqual({ creditsHeld: 4, creditsPerImage: 2 });
    // The platform tenant's user pays the platform's 5.
    expect(await held(await createJob(user.token, 'default'))).toEqual({ creditsHeld: 10, creditsPerImage: 5 });

    // A new price for the tenant: new jobs pay it, the job already created keeps the price it was held at.
    expect((await asAdmin(SET_IMAGE, { input: { tenantId, modelId, pricePerImage: 30 } })).body.errors).toBeUndefined();
    expect(await held(await createJob(member.token, tenantId))).toEqual({ creditsHeld: 60, creditsPerImage: 30 });
    expect(await held(cheap)).toEqual({ creditsHeld: 4, creditsPerImage: 2 });
    // Free for the tenant (0 is a price): the job is created, holding nothing.
    expect((await asAdmin(SET_IMAGE, { input: { tenantId, modelId, pricePerImage: 0 } })).body.errors).toBeUndefined();
    expect(await held(await createJob(member.token, tenantId))).toEqual({ creditsHeld: 0, creditsPerImage: 0 });
    expect(await sg.db.auditEvent.count({ where: { action: 'setTenantImagePrice', targetId: modelId } })).toBe(3);
  });

  it('only platform admins set them; bad input names the field', async () => {
    const modelId = `qwen-tprice-${randomUUID().slice(0, 8)}`;
    expect((await asAdmin(UPSERT_CHAT, { input: chatInput(modelId) })).body.errors).toBeUndefined();
    const tenantId = `price-${randomUUID().slice(0, 8)}`;
    await ensureTenant(sg, tenantId);
    const input = { tenantId, modelId, inputPricePer1k: 1, outputPricePer1k: 1 };
    const tenantAdmin = await seedUserWithHistory(sg.db, { tenantId, conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: tenantAdmin.user.id }, data: { roles: 'USER,ADMIN' } });
    const tenantAdminToken = await sg.tokenFor({ ...tenantAdmin.user, roles: ['USER', 'ADMIN'] });
    const asTenantAdmin = await sg.request(SET_CHAT, { token: tenantAdminToken, headers: { 'x-tenant-id': tenantId }, variables: { input } });
    expect(asTenantAdmin.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await user.call(SET_CHAT, { input })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await user.call(SET_IMAGE, { input: { tenantId, modelId, pricePerImage: 1 } })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await asAdmin(SET_CHAT, { input: { ...input, tenantId: 'default' } })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tenantId' });
    expect((await asAdmin(SET_CHAT, { input: { ...input, inputPricePer1k: null } })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputPricePer1k' });
    expect((await asAdmin(SET_IMAGE, { input: { tenantId, modelId: 'wanx-none', pricePerImage: -1 } })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'pricePerImage' });
    expect((await asAdmin(SET_CHAT, { input: { ...input, modelId: 'no-such-model' } })).body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await sg.db.tenantChatPriceVersion.count({ where: { tenantId } })).toBe(0);
  });
});

describe('tenantOverrides', () => {
  const OVERRIDES = `query O($tenantId: ID!) { tenantOverrides(tenantId: $tenantId) {
    tenantId
    hiddenChatModels { modelId hidden }
    hiddenImageModels { modelId hidden }
    chatPrices { modelId inputPricePer1k outputPricePer1k validFrom }
    imagePrices { modelId pricePerImage validFrom }
  } }`;

  it("lists where a tenant departs from the platform, from the three subgraphs that hold it; platform admins only", async () => {
    const tenantId = `ovr-${randomUUID().slice(0, 8)}`;
    const chatA = `qwen-ovr-a-${randomUUID().slice(0, 8)}`;
    const chatB = `qwen-ovr-b-${randomUUID().slice(0, 8)}`;
    const imageA = `wanx-ovr-a-${randomUUID().slice(0, 8)}`;
    for (const id of [chatA, chatB]) expect((await asAdmin(UPSERT_CHAT, { input: chatInput(id) })).body.errors).toBeUndefined();
    expect((await asAdmin(UPSERT_IMAGE, { input: { id: imageA, name: 'Ovr painter', sizes: ['1024*1024'], maxCount: 1, pricePerImage: 5 } })).body.errors).toBeUndefined();
    // Nothing yet (the tenant need not exist: overrides may be prepared before createTenant).
    expect(expectData(await asAdmin(OVERRIDES, { tenantId })).tenantOverrides).toEqual({ tenantId, hiddenChatModels: [], hiddenImageModels: [], chatPrices: [], imagePrices: [] });

    const run = async (query: string, input: Record<string, unknown>) => expect((await asAdmin(query, { input })).body.errors).toBeUndefined();
    await run('mutation S($input: TenantChatModelInput!) { setTenantChatModel(input: $input) { hidden } }', { tenantId, modelId: chatA, hidden: true });
    await run('mutation S($input: TenantChatModelInput!) { setTenantChatModel(input: $input) { hidden } }', { tenantId, modelId: chatB, hidden: true });
    await run('mutation S($input: TenantChatModelInput!) { setTenantChatModel(input: $input) { hidden } }', { tenantId, modelId: chatB, hidden: false });
    await run('mutation S($input: TenantImageModelInput!) { setTenantImageModel(input: $input) { hidden } }', { tenantId, modelId: imageA, hidden: true });
    await run('mutation S($input: TenantChatPriceInput!) { setTenantChatPrice(input: $input) { validFrom } }', { tenantId, modelId: chatA, inputPricePer1k: 1, outputPricePer1k: 2 });
    await run('mutation S($input: TenantChatPriceInput!) { setTenantChatPrice(input: $input) { validFrom } }', { tenantId, modelId: chatB, inputPricePer1k: 3, outputPricePer1k: 4 });
    await run('mutation S($input: TenantChatPriceInput!) { setTenantChatPrice(input: $input) { validFrom } }', { tenantId, modelId: chatB, inputPricePer1k: null, outputPricePer1k: null });
    await run('mutation S($input: TenantImagePriceInput!) { setTenantImagePrice(input: $input) { validFrom } }', { tenantId, modelId: imageA, pricePerImage: 2 });

    // What is in force now: chatB shown again and its price ended, so it is in neither list.
    const overrides = expectData(await asAdmin(OVERRIDES, { tenantId })).tenantOverrides;
    expect(overrides).toMatchObject({
      tenantId,
      hiddenChatModels: [{ modelId: chatA, hidden: true }],
      hiddenImageModels: [{ modelId: imageA, hidden: true }],
      chatPrices: [{ modelId: chatA, inputPricePer1k: 1, outputPricePer1k: 2 }],
      imagePrices: [{ modelId: imageA, pricePerImage: 2 }],
    });
    // Another tenant's overrides are its own.
    expect(expectData(await asAdmin(OVERRIDES, { tenantId: 'default' })).tenantOverrides.chatPrices).toEqual([]);

    // Platform admins only; a malformed tenant id names the field.
    await ensureTenant(sg, tenantId);
    const tenantAdmin = await seedUserWithHistory(sg.db, { tenantId, conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: tenantAdmin.user.id }, data: { roles: 'USER,ADMIN' } });
    const tenantAdminToken = await sg.tokenFor({ ...tenantAdmin.user, roles: ['USER', 'ADMIN'] });
    const asTenantAdmin = await sg.request(OVERRIDES, { token: tenantAdminToken, headers: { 'x-tenant-id': tenantId }, variables: { tenantId } });
    expect(asTenantAdmin.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await user.call(OVERRIDES, { tenantId })).body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await asAdmin(OVERRIDES, { tenantId: 'Not Valid' })).body.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tenantId' });
  });
});
