import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createDb, scopeToTenant, type QueryEvent } from '@firefly/db';
import { createConversationRepository } from '../data/conversations.ts';
import { createChatModelRepository } from '../data/models.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Provided by tests/src/global-setup.ts: this run's migrated and seeded database. */
    databaseUrl: string;
  }
}

// This run's database (tests/src/global-setup.ts), with every statement recorded.
const queries: QueryEvent[] = [];
const db = createDb({ url: inject('databaseUrl'), connectionLimit: 2, onQuery: (event) => queries.push(event) });
/** Models this file added to the shared catalog (inactive: no other test lists them), removed at the end. */
const added: string[] = [];
afterAll(async () => {
  await db.chatModel.deleteMany({ where: { id: { in: added } } });
  await db.$disconnect();
});

const statements = () => queries.map((q) => q.query).filter((sql) => !sql.startsWith('--'));

/** A tenant of its own and its stores, as a request of that tenant gets them (context.ts). */
function tenant() {
  const tenantId = `t-${randomUUID()}`;
  const scoped = scopeToTenant(db, tenantId);
  return { tenantId, conversations: createConversationRepository(scoped, tenantId, db), models: createChatModelRepository(db, scoped, tenantId, db) };
}

async function conversationOf(tenantId: string, userId: string, fields: { modelId?: string; deletedAt?: Date } = {}) {
  return db.conversation.create({
    data: {
      id: randomUUID(),
      tenantId,
      userId,
      title: 'Fireflies',
      modelId: fields.modelId ?? 'qwen-turbo',
      systemPrompt: 'You are a naturalist.',
      temperature: 0.7,
      topP: 0.9,
      maxTokens: 512,
      enableSearch: true,
      ...(fields.deletedAt ? { deletedAt: fields.deletedAt } : {}),
    },
  });
}

async function inactiveChatModel() {
  const id = `test-model-${randomUUID()}`;
  added.push(id);
  await db.chatModel.create({ data: { id, name: 'Test model', maxInputTokens: 1_000, maxOutputTokens: 200, active: false } });
  return id;
}

describe("the conversation and its model for an answer (sendMessage, regenerateMessage)", () => {
  it('reads what findOwned and the catalog read, in one statement', async () => {
    const { tenantId, conversations, models } = tenant();
    const userId = `u-${randomUUID()}`;
    const { id } = await conversationOf(tenantId, userId);
    const [conversation, model] = [await conversations.findOwned(id, userId), await models.findById('qwen-turbo')];
    expect(conversation).toMatchObject({ temperature: 0.7, topP: 0.9, maxTokens: 512, enableSearch: true, systemPrompt: 'You are a naturalist.' });
    expect(model).toMatchObject({ id: 'qwen-turbo', active: true, provider: 'dashscope' });
    queries.length = 0;
    expect(await conversations.findOwnedWithModel(id, userId)).toEqual({ conversation, model });
    expect(statements()).toHaveLength(1);
  });

  it("finds nothing for another user's, another tenant's, a deleted or a missing conversation", async () => {
    const { tenantId, conversations } = tenant();
    const userId = `u-${randomUUID()}`;
    const { id } = await conversationOf(tenantId, userId);
    expect(await conversations.findOwnedWithModel(id, `u-${randomUUID()}`)).toBeNull();
    expect(await tenant().conversations.findOwnedWithModel(id, userId)).toBeNull();
    const deleted = await conversationOf(tenantId, userId, { deletedAt: new Date() });
    expect(await conversations.findOwnedWithModel(deleted.id, userId)).toBeNull();
    expect(await conversations.findOwnedWithModel(randomUUID(), userId)).toBeNull();
  });

  it('shows a model hidden from the tenant as inactive, as the catalog does; hidden from another tenant or unhidden, as active', async () => {
    // A seeded model, hidden only for this file's own tenants.
    const modelId = 'qwen-plus';
    const [mine, other] = [tenant(), tenant()];
    const userId = `u-${randomUUID()}`;
    const [hidden, visible] = [await conversationOf(mine.tenantId, userId, { modelId }), await conversationOf(other.tenantId, userId, { modelId })];
    await db.tenantChatModel.create({ data: { tenantId: mine.tenantId, modelId, hidden: true } });
    expect((await mine.conversations.findOwnedWithModel(hidden.id, userId))?.model).toEqual(await mine.models.findById(modelId));
    expect((await mine.conversations.findOwnedWithModel(hidden.id, userId))?.model?.active).toBe(false);
    expect((await other.conversations.findOwnedWithModel(visible.id, userId))?.model?.active).toBe(true);
    await db.tenantChatModel.update({ where: { tenantId_modelId: { tenantId: mine.tenantId, modelId } }, data: { hidden: false } });
    expect((await mine.conversations.findOwnedWithModel(hidden.id, userId))?.model?.active).toBe(true);
  });

  it('reads a deactivated model as inactive, and a model gone from the catalog as none', async () => {
    const { tenantId, conversations } = tenant();
    const userId = `u-${randomUUID()}`;
    const deactivated = await conversationOf(tenantId, userId, { modelId: await inactiveChatModel() });
    expect((await conversations.findOwnedWithModel(deactivated.id, userId))?.model?.active).toBe(false);
    const gone = await conversationOf(tenantId, userId, { modelId: `gone-${randomUUID()}` });
    expect(await conversations.findOwnedWithModel(gone.id, userId)).toMatchObject({ conversation: { id: gone.id }, model: null });
  });
});

describe('the models of listed conversations (findByIds, through the request DataLoader)', () => {
  it('reads what findById reads for each, in one statement, a model hidden from the tenant as inactive for that tenant only', async () => {
    const [mine, other] = [tenant(), tenant()];
    const deactivated = await inactiveChatModel();
    await db.tenantChatModel.create({ data: { tenantId: mine.tenantId, modelId: 'qwen-plus', hidden: true } });
    const ids = ['qwen-turbo', 'qwen-plus', deactivated, `gone-${randomUUID()}`];
    for (const { models } of [mine, other]) {
      const each = (await Promise.all(ids.map((id) => models.findById(id)))).filter((model) => model !== null);
      queries.length = 0;
      const found = await models.findByIds(ids);
      expect(statements()).toHaveLength(1);
      expect([...found].sort((a, b) => a.id.localeCompare(b.id))).toEqual([...each].sort((a, b) => a.id.localeCompare(b.id)));
    }
    const active = async (models: typeof mine.models) => Object.fromEntries((await models.findByIds(ids)).map((model) => [model.id, model.active]));
    expect(await active(mine.models)).toEqual({ 'qwen-turbo': true, 'qwen-plus': false, [deactivated]: false });
    expect(await active(other.models)).toEqual({ 'qwen-turbo': true, 'qwen-plus': true, [deactivated]: false });
    expect(await mine.models.findByIds([])).toEqual([]);
  });
});
