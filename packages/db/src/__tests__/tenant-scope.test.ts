import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createDb, scopeToTenant, tenantScopedModels, TenantScopeError, type Db } from '../index.ts';
import { createScratchDatabase, type ScratchDatabase } from '../testing.ts';

const A = 'tenant-a';
const B = 'tenant-b';

describe('scopeToTenant', () => {
  let scratch: ScratchDatabase;
  let db: Db;
  let asA: Db;

  beforeAll(async () => {
    scratch = await createScratchDatabase('db_tenant_scope');
    db = createDb({ url: scratch.url, connectionLimit: 2 });
    asA = scopeToTenant(db, A);
    await db.tenant.createMany({
      data: [
        { id: A, slug: A, name: 'A' },
        { id: B, slug: B, name: 'B' },
      ],
    });
  });

  afterAll(async () => {
    await db?.$disconnect();
    await scratch?.drop();
  });

  beforeEach(async () => {
    await db.message.deleteMany();
    await db.conversation.deleteMany();
    await db.user.deleteMany();
    await db.user.create({ data: { id: 'user-a', tenantId: A, displayName: 'Ann', email: 'same@example.com' } });
    await db.user.create({ data: { id: 'user-b', tenantId: B, displayName: 'Bob', email: 'same@example.com' } });
  });

  it('knows which models carry tenantId, and that catalog models do not', () => {
    const scoped = tenantScopedModels(db);
    expect(scoped).toEqual(expect.arrayContaining(['User', 'Session', 'Conversation', 'Message', 'ImageJob', 'Order', 'LedgerEntry']));
    for (const catalog of ['Tenant', 'ChatModel', 'ImageModel', 'ChatPrice', 'ImagePrice']) expect(scoped).not.toContain(catalog);
  });

  it("does not show another tenant's rows, even by id", async () => {
    expect(await asA.user.findUnique({ where: { id: 'user-b' } })).toBeNull();
    await expect(asA.user.findUniqueOrThrow({ where: { id: 'user-b' } })).rejects.toThrow();
    expect(await asA.user.findFirst({ where: { id: 'user-b' } })).toBeNull();
    expect((await asA.user.findMany()).map((u) => u.id)).toEqual(['user-a']);
    expect(await asA.user.count()).toBe(1);
    expect((await asA.user.aggregate({ _count: { _all: true } }))._count._all).toBe(1);
    expect(await asA.user.groupBy({ by: ['tenantId'], _count: { _all: true } })).toEqual([{ tenantId: A, _count: { _all: 1 } }]);
    expect(await asA.user.findUnique({ where: { tenantId_email: { tenantId: A, email: 'same@example.com' } } })).toMatchObject({ id: 'user-a' });
  });

  it("cannot change or delete another tenant's rows, even by id", async () => {
    await expect(asA.user.update({ where: { id: 'user-b' }, data: { displayName: 'hacked' } })).rejects.toThrow();
    expect((await asA.user.updateMany({ where: { id: 'user-b' }, data: { displayName: 'hacked' } })).count).toBe(0);
    await expect(asA.user.delete({ where: { id: 'user-b' } })).rejects.toThrow();
    expect((await asA.user.deleteMany({ where: { id: 'user-b' } })).count).toBe(0);
    expect((await asA.user.deleteMany()).count).toBe(1);
    expect(await db.user.findUnique({ where: { id: 'user-b' } })).toMatchObject({ displayName: 'Bob' });
  });

  it("upsert on another tenant's id creates a row of its own tenant instead of touching the other", async () => {
    // The id is taken by tenant B, so A's insert collides on the primary key rather than updating B's row.
    await expect(
      asA.user.upsert({ where: { id: 'user-b' }, create: { id: 'user-b', tenantId: A, displayName: 'x' }, update: { displayName: 'hacked' } }),
    ).rejects.toThrow();
    expect(await db.user.findUnique({ where: { id: 'user-b' } })).toMatchObject({ tenantId: B, displayName: 'Bob' });
  });

  it('sets tenantId on create, createMany and upsert', async () => {
    // The generated types require tenantId; the scope fills it whatever the caller passes for its own tenant.
    const created = await asA.user.create({ data: { id: 'user-a2', tenantId: A, displayName: 'A2' } });
    expect(created.tenantId).toBe(A);
    await asA.user.createMany({ data: [{ id: 'user-a3', tenantId: A, displayName: 'A3' }] });
    await asA.user.upsert({ where: { id: 'user-a4' }, create: { id: 'user-a4', tenantId: A, displayName: 'A4' }, update: {} });
    expect((await db.user.findMany({ where: { tenantId: A } })).map((u) => u.id).sort()).toEqual(['user-a', 'user-a2', 'user-a3', 'user-a4']);
  });

  it('throws rather than write or read another tenant when the caller names it', async () => {
    await expect(asA.user.create({ data: { id: 'x', tenantId: B, displayName: 'x' } })).rejects.toThrow(TenantScopeError);
    await expect(asA.user.createMany({ data: [{ id: 'x', tenantId: B, displayName: 'x' }] })).rejects.toThrow(TenantScopeError);
    await expect(asA.user.update({ where: { id: 'user-a' }, data: { tenantId: B } })).rejects.toThrow(TenantScopeError);
    await expect(asA.user.updateMany({ data: { tenantId: { set: B } } })).rejects.toThrow(TenantScopeError);
    await expect(asA.user.findMany({ where: { tenantId: B } })).rejects.toThrow(TenantScopeError);
    await expect(
      asA.user.findUnique({ where: { tenantId_email: { tenantId: B, email: 'same@example.com' } } }),
    ).rejects.toThrow(TenantScopeError);
    expect(await db.user.findUnique({ where: { id: 'user-a' } })).toMatchObject({ tenantId: A });
  });

  it('scopes nested writes: nested creates get the tenant, nested connects cannot reach another tenant', async () => {
    const conversation = await asA.conversation.create({
      data: {
        id: 'conv-a',
        tenantId: A,
        userId: 'user-a',
        title: 't',
        modelId: 'qwen-turbo',
        messages: { create: [{ id: 'msg-a1', tenantId: A, userId: 'user-a', role: 'USER', content: 'hi' }] },
      },
      include: { messages: true },
    });
    expect(conversation.messages.map((m) => m.tenantId)).toEqual([A]);

    await db.conversation.create({ data: { id: 'conv-b', tenantId: B, userId: 'user-b', title: 't', modelId: 'qwen-turbo' } });
    await db.message.create({ data: { id: 'msg-b1', tenantId: B, conversationId: 'conv-b', userId: 'user-b', role: 'USER', content: 'secret' } });
    await expect(asA.conversation.update({ where: { id: 'conv-a' }, data: { messages: { connect: { id: 'msg-b1' } } } })).rejects.toThrow();
    expect(await db.message.findUnique({ where: { id: 'msg-b1' } })).toMatchObject({ conversationId: 'conv-b' });
    await expect(
      asA.conversation.update({ where: { id: 'conv-a' }, data: { messages: { create: { id: 'm', tenantId: B, userId: 'u', role: 'USER', content: 'x' } } } }),
    ).rejects.toThrow(TenantScopeError);
  });

  it('applies inside interactive transactions', async () => {
    const ids = await asA.$transaction(async (tx) => (await tx.user.findMany()).map((u) => u.id));
    expect(ids).toEqual(['user-a']);
    const [count] = await asA.$transaction([asA.user.count()]);
    expect(count).toBe(1);
  });

  it('leaves catalog models unscoped', async () => {
    expect(await asA.tenant.count()).toBe(3);
  });

  it('refuses an empty tenant id', () => {
    expect(() => scopeToTenant(db, '')).toThrow(TenantScopeError);
  });
});
