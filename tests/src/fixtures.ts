import { randomUUID } from 'node:crypto';
import type { Db } from '@firefly/db';

export interface SeededUser {
  user: { id: string; tenantId: string; displayName: string; email: string; phone: string };
  /** Oldest first. */
  conversationIds: string[];
  /** Oldest first. */
  imageJobIds: string[];
}

let sequence = 0;

/**
 * Writes a user with conversations (each a question and an answer), finished image jobs with one image each, and
 * a credit account booked through a GRANT ledger entry, straight into the database. Timestamps are spaced so the
 * newest-first order of every list is known.
 */
export async function seedUserWithHistory(db: Db, options: { tenantId: string; conversations: number; imageJobs: number; credits: number }): Promise<SeededUser> {
  const n = ++sequence;
  const id = randomUUID();
  const tag = id.slice(0, 8);
  const user = {
    id,
    tenantId: options.tenantId,
    displayName: `User ${tag}`,
    email: `user-${tag}@example.com`,
    phone: `139${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`,
  };
  await db.user.create({ data: user });
  const base = Date.UTC(2026, 0, 1) + n * 86_400_000;

  const conversationIds: string[] = [];
  for (let i = 0; i < options.conversations; i++) {
    const conversationId = randomUUID();
    const createdAt = new Date(base + i * 60_000);
    const title = `Conversation ${i} of ${tag}`;
    await db.conversation.create({
      data: { id: conversationId, tenantId: options.tenantId, userId: id, title, modelId: 'qwen-plus', temperature: 0.7, createdAt },
    });
    await db.message.createMany({
      data: [
        { id: randomUUID(), tenantId: options.tenantId, userId: id, conversationId, role: 'USER', content: `question in ${title}`, createdAt },
        {
          id: randomUUID(),
          tenantId: options.tenantId,
          userId: id,
          conversationId,
          role: 'ASSISTANT',
          content: `answer to question in ${title}`,
          inputTokens: 12,
          outputTokens: 34,
          finishReason: 'stop',
          createdAt: new Date(createdAt.getTime() + 1_000),
        },
      ],
    });
    conversationIds.push(conversationId);
  }

  const imageJobIds: string[] = [];
  for (let i = 0; i < options.imageJobs; i++) {
    const jobId = randomUUID();
    const createdAt = new Date(base + i * 60_000);
    await db.imageJob.create({
      data: {
        id: jobId,
        tenantId: options.tenantId,
        userId: id,
        prompt: `a firefly over a lotus pond ${i}`,
        model: 'wanx2.1-t2i-turbo',
        size: '1024*1024',
        count: 1,
        status: 'SUCCEEDED',
        progress: 1,
        createdAt,
        finishedAt: new Date(createdAt.getTime() + 5_000),
        images: {
          create: [{ id: randomUUID(), tenantId: options.tenantId, userId: id, storageKey: `${options.tenantId}/${jobId}/0.png`, width: 1024, height: 1024, contentType: 'image/png' }],
        },
      },
    });
    imageJobIds.push(jobId);
  }

  const accountId = randomUUID();
  await db.creditAccount.create({ data: { id: accountId, tenantId: options.tenantId, userId: id, available: options.credits } });
  await db.ledgerEntry.create({
    data: { id: randomUUID(), tenantId: options.tenantId, accountId, userId: id, delta: options.credits, balanceAfter: options.credits, reason: 'GRANT', idempotencyKey: `grant:${id}` },
  });
  return { user, conversationIds, imageJobIds };
}
