// AI painting end to end through the gateway: createImageJob holds credits and queues the job, an image worker runs
// the DashScope Wanxiang task (simulator), stores every image in OSS (simulator, real ali-oss client) and settles the
// credits for the images produced.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCreditsClient } from '@firefly/credits-client';
import { DEFAULT_IMAGE_MODELS } from '@firefly/dashscope-simulator';
import { createLogger } from '@firefly/logger';
import { imageHoldKeyFor, imageJobIdForKey, ORPHANED_HOLD_GRACE_MS, sweepOrphanedHolds } from '@firefly/subgraph-image';
import { seedUserWithHistory } from '../../src/fixtures.ts';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, createChatUser, errorOf, expectData, waitFor } from '../../src/chat-helpers.ts';
import { CREATE_IMAGE_JOB, startImageWorker, waitForFinishedJob, type ImageJobView, type TestImageWorker } from '../../src/image-helpers.ts';

/** wanx2.1-t2i-turbo costs 4 credits an image (seed catalog). */
const TURBO = 'wanx2.1-t2i-turbo';
const PER_IMAGE = 4;
/** A model of this file's own (priced by an admin here), so its price changes touch no other test. */
const PRICED_MODEL = `wanx-priced-${randomUUID().slice(0, 8)}`;

let sg: Supergraph;
type ChatUserCall = Awaited<ReturnType<typeof createChatUser>>['call'];
let worker: TestImageWorker;

beforeAll(async () => {
  sg = await startSupergraph({ simulator: { taskPendingMs: 150, taskRunningMs: 400, maxConcurrentTasksPerModel: 50, imageModels: [...DEFAULT_IMAGE_MODELS, PRICED_MODEL] } });
  worker = await startImageWorker(sg);
});

afterAll(async () => {
  await worker?.stop();
  await sg?.stop();
});

function submitsFor(prompt: string) {
  return sg.simulator.requests.filter((r) => r.endpoint === 'imageSynthesis' && JSON.stringify(r.body).includes(prompt));
}

describe('createImageJob → image worker → OSS', () => {
  it('makes the images, stores them in OSS under tenant/user/job/n.png and charges the images produced', async () => {
    const user = await createChatUser(sg, 100);
    const prompt = `萤火虫在荷塘上飞 ${Date.now()}`;
    const created = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt, model: TURBO, size: '1280*720', count: 2, seed: 7 } })).createImageJob as ImageJobView;
    expect(created).toMatchObject({ status: 'QUEUED', progress: 0, count: 2, creditsCharged: null, images: [] });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * PER_IMAGE, reserved: 2 * PER_IMAGE });

    const job = await waitForFinishedJob(user, created.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', progress: 1, creditsCharged: 2 * PER_IMAGE, error: null, errorCode: null });
    expect(job.finishedAt).not.toBeNull();
    expect(job.images).toHaveLength(2);
    for (const [n, image] of job.images.entries()) {
      expect(image).toMatchObject({ width: 1280, height: 720, contentType: 'image/png' });
      const served = await fetch(image.url);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^image\//);
      expect((await served.arrayBuffer()).byteLength).toBeGreaterThan(0);
      expect(sg.oss.keys()).toContain(`default/${user.id}/${created.id}/${n}.png`);
    }
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * PER_IMAGE, reserved: 0 });
    // One DashScope task, submitted with what the user asked for.
    const submits = submitsFor(prompt);
    expect(submits).toHaveLength(1);
    expect(submits[0]!.body).toMatchObject({ model: TURBO, input: { prompt }, parameters: { size: '1280*720', n: 2, seed: 7 } });
  });

  it('answers the same job for the same idempotencyKey, charged once', async () => {
    const user = await createChatUser(sg, 100);
    const prompt = `idempotent lotus ${Date.now()}`;
    const input = { prompt, count: 1, idempotencyKey: 'paint-1' };
    const [a, b] = await Promise.all([user.call(CREATE_IMAGE_JOB, { input }), user.call(CREATE_IMAGE_JOB, { input })]);
    const first = expectData(a).createImageJob as ImageJobView;
    expect((expectData(b).createImageJob as ImageJobView).id).toBe(first.id);
    await waitForFinishedJob(user, first.id);
    const again = expectData(await user.call(CREATE_IMAGE_JOB, { input })).createImageJob as ImageJobView;
    expect(again).toMatchObject({ id: first.id, status: 'SUCCEEDED' });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });
    expect(submitsFor(prompt)).toHaveLength(1);
    // Another user's identical key is another request.
    const other = await createChatUser(sg, 100);
    const theirs = expectData(await other.call(CREATE_IMAGE_JOB, { input })).createImageJob as ImageJobView;
    expect(theirs.id).not.toBe(first.id);
    await waitForFinishedJob(other, theirs.id);
  });

  it('makes one job with one hold and one charge out of many identical requests with one key sent at once', async () => {
    const user = await createChatUser(sg, 100);
    const prompt = `crowded lotus ${randomUUID()}`;
    const input = { prompt, model: TURBO, size: '1280*720', count: 1, idempotencyKey: `burst-${randomUUID()}` };
    const answers = await Promise.all(Array.from({ length: 12 }, () => user.call(CREATE_IMAGE_JOB, { input })));
    const ids = new Set(answers.map((answer) => (expectData(answer).createImageJob as ImageJobView).id));
    expect(ids.size).toBe(1);
    const [jobId] = [...ids];
    expect(await waitForFinishedJob(user, jobId!)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(1);
    // One hold, settled for the one image; one charge in the ledger; one DashScope task.
    expect(await sg.db.reservation.findMany({ where: { userId: user.id }, select: { status: true, settledAmount: true } })).toEqual([{ status: 'SETTLED', settledAmount: PER_IMAGE }]);
    expect(await sg.db.ledgerEntry.count({ where: { userId: user.id, reason: 'IMAGE_USAGE' } })).toBe(1);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });
    expect(submitsFor(prompt)).toHaveLength(1);
  });

  it('stores the job when its first INSERT fails once, instead of failing the request and giving the hold back', async () => {
    const user = await createChatUser(sg, 100);
    const marker = `once-${randomUUID().slice(0, 8)}`;
    const trigger = `refuse_${marker.replace(/-/g, '_')}`;
    // The first INSERT of this prompt is refused (it takes a named lock its session keeps); every later one passes.
    await sg.db.$executeRawUnsafe(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON ImageJob FOR EACH ROW
         IF NEW.prompt LIKE '%${marker}%' AND IS_USED_LOCK('${trigger}') IS NULL AND GET_LOCK('${trigger}', 0) = 1 THEN
           SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused once by the test';
         END IF`,
    );
    let answer: Awaited<ReturnType<ChatUserCall>>;
    try {
      answer = await user.call(CREATE_IMAGE_JOB, { input: { prompt: `${marker} lotus`, model: TURBO, size: '1280*720', count: 1, idempotencyKey: `once-${randomUUID()}` } });
    } finally {
      await sg.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    const created = expectData(answer).createImageJob as ImageJobView;
    expect(await waitForFinishedJob(user, created.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(1);
    expect(await sg.db.reservation.findMany({ where: { userId: user.id }, select: { status: true, settledAmount: true } })).toEqual([{ status: 'SETTLED', settledAmount: PER_IMAGE }]);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });
  });

  it('starts no job on the hold of a key whose earlier request failed and gave its credits back', async () => {
    const user = await createChatUser(sg, 100);
    const key = `lost-${randomUUID()}`;
    const prompt = `unpaid lotus ${Date.now()}`;
    // What an attempt whose job INSERT failed leaves behind: its hold, made as createImageJob makes it (same key, same
    // job id), then released by that attempt. Billing answers a key's first hold whatever its status.
    const credits = createCreditsClient({ url: sg.subgraphUrls.billing, secret: sg.internalTokenSecret, service: 'image' });
    const hold = await credits.reserveImage({
      tenantId: 'default',
      userId: user.id,
      modelId: TURBO,
      size: '1280*720',
      count: 1,
      referenceId: imageJobIdForKey('default', user.id, key),
      ttlSeconds: 3_600,
      idempotencyKey: imageHoldKeyFor(user.id, key, { model: TURBO, size: '1280*720', count: 1 }),
    });
    await credits.release({ tenantId: 'default', reservationId: hold.id });

    // The retry with that key: no job on the released hold (it would run and never be charged).
    const retry = await user.call(CREATE_IMAGE_JOB, { input: { prompt, model: TURBO, size: '1280*720', count: 1, idempotencyKey: key } });
    expect(errorOf(retry)).toMatchObject({ code: 'CONFLICT', field: 'idempotencyKey' });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(0);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });

    // A new key is a new request: held, made and charged.
    const created = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt, model: TURBO, size: '1280*720', count: 1, idempotencyKey: `${key}-2` } }))
      .createImageJob as ImageJobView;
    expect(await waitForFinishedJob(user, created.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });
    expect(submitsFor(prompt)).toHaveLength(1);
  });

  it('charges the job that runs for its own images when two requests share a key but not their parameters', async () => {
    // Two requests with one idempotencyKey at once, the first for 1 image, the second for 4. Both propose the job id
    // the key stands for; whichever stores it runs. Here the second stores it: the first is held up between its
    // hold and its job INSERT (a trigger of this test waits on a row the test keeps locked).
    const gate = (await sg.db.creditAccount.findFirstOrThrow({ where: { userId: (await createChatUser(sg, 1)).id }, select: { id: true } })).id;
    const user = await createChatUser(sg, 100);
    const marker = `split-${randomUUID().slice(0, 8)}`;
    const trigger = `gate_${marker.replace(/-/g, '_')}`;
    const key = `split-${randomUUID()}`;
    const input = (count: number) => ({ prompt: `${marker} lotus`, model: TURBO, size: '1280*720', count, idempotencyKey: key });
    await sg.db.$executeRawUnsafe(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON ImageJob FOR EACH ROW
         IF NEW.prompt LIKE '%${marker}%' AND NEW.count = 1 THEN SELECT available INTO @gate FROM CreditAccount WHERE id = '${gate}' FOR UPDATE; END IF`,
    );
    let one!: ReturnType<ChatUserCall>;
    let four!: Awaited<ReturnType<ChatUserCall>>;
    try {
      await sg.db.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT id FROM CreditAccount WHERE id = ${gate} FOR UPDATE`;
          one = user.call(CREATE_IMAGE_JOB, { input: input(1) });
          await waitFor(async () => (await sg.db.reservation.count({ where: { userId: user.id, status: 'HELD' } })) === 1, 20_000, "the first request's hold");
          four = await user.call(CREATE_IMAGE_JOB, { input: input(4) });
        },
        { timeout: 30_000, maxWait: 30_000 },
      );
    } finally {
      await sg.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    const created = expectData(four).createImageJob as ImageJobView;
    expect(created.count).toBe(4);
    // The first request answers the job that was stored (the key names the request).
    expect((expectData(await one).createImageJob as ImageJobView).id).toBe(created.id);
    expect(await waitForFinishedJob(user, created.id)).toMatchObject({ status: 'SUCCEEDED', count: 4, creditsCharged: 4 * PER_IMAGE });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(1);
    await waitFor(async () => (await balanceOf(sg.db, user.id)).reserved === 0, 10_000, 'no credits held');
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 4 * PER_IMAGE, reserved: 0 });
  });

  it('keeps the hold of a job a concurrent identical request stored when its own INSERT failed', async () => {
    // Two identical requests with one idempotencyKey share one hold. The first to reach its INSERT here is refused by
    // a trigger of this test (after waiting for the other one to store the job): it must not give back the hold the
    // stored job runs on. No worker meanwhile, so the job is settled only after both requests answered.
    await worker.stop();
    let restarted = false;
    try {
      const gate = (await sg.db.creditAccount.findFirstOrThrow({ where: { userId: (await createChatUser(sg, 1)).id }, select: { id: true } })).id;
      const user = await createChatUser(sg, 100);
      const marker = `shared-${randomUUID().slice(0, 8)}`;
      const trigger = `refuse_${marker.replace(/-/g, '_')}`;
      const input = { prompt: `${marker} lotus`, model: TURBO, size: '1280*720', count: 1, idempotencyKey: `shared-${randomUUID()}` };
      // The first INSERT takes a named lock (kept by its session) and fails once the test opens the gate; later ones pass.
      await sg.db.$executeRawUnsafe(
        `CREATE TRIGGER ${trigger} BEFORE INSERT ON ImageJob FOR EACH ROW
           IF NEW.prompt LIKE '%${marker}%' AND GET_LOCK('${trigger}', 0) = 1 THEN
             SELECT available INTO @gate FROM CreditAccount WHERE id = '${gate}' FOR UPDATE;
             SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test';
           END IF`,
      );
      let answers!: Promise<[Awaited<ReturnType<ChatUserCall>>, Awaited<ReturnType<ChatUserCall>>]>;
      try {
        await sg.db.$transaction(
          async (tx) => {
            await tx.$queryRaw`SELECT id FROM CreditAccount WHERE id = ${gate} FOR UPDATE`;
            const both = [user.call(CREATE_IMAGE_JOB, { input }), user.call(CREATE_IMAGE_JOB, { input })] as const;
            answers = Promise.all(both);
            // The other request stored the job and answered while the first waits at the gate.
            await Promise.race(both);
            expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(1);
          },
          { timeout: 30_000, maxWait: 30_000 },
        );
      } finally {
        await sg.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${trigger}`);
      }
      const [a, b] = await answers;
      const job = expectData(a).createImageJob as ImageJobView;
      expect((expectData(b).createImageJob as ImageJobView).id).toBe(job.id);
      const { reservationId } = await sg.db.imageJob.findUniqueOrThrow({ where: { id: job.id }, select: { reservationId: true } });
      expect(await sg.db.reservation.findUniqueOrThrow({ where: { id: reservationId! }, select: { status: true } })).toEqual({ status: 'HELD' });

      worker = await startImageWorker(sg);
      restarted = true;
      expect(await waitForFinishedJob(user, job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
      expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });
    } finally {
      if (!restarted) worker = await startImageWorker(sg);
    }
  });

  it('keeps the hold when both its INSERTs fail and an identical request stores the job on it later; the sweep releases only a hold no job uses', async () => {
    // Two requests with one idempotencyKey and the same priced parameters share one hold (the prompts differ, which
    // the hold and the job id do not depend on). B is held up between its hold and its INSERT (a trigger of this test
    // waits on a row the test keeps locked); A's INSERTs are both refused meanwhile, and A fails. Only then does B's
    // INSERT land: its job runs on the hold A must not have given back.
    const gate = (await sg.db.creditAccount.findFirstOrThrow({ where: { userId: (await createChatUser(sg, 1)).id }, select: { id: true } })).id;
    const user = await createChatUser(sg, 100);
    const marker = `late-${randomUUID().slice(0, 8)}`;
    const trigger = `late_${marker.replace(/-/g, '_')}`;
    const key = `late-${randomUUID()}`;
    const input = (who: string) => ({ prompt: `${marker} ${who}`, model: TURBO, size: '1280*720', count: 1, idempotencyKey: key });
    await sg.db.$executeRawUnsafe(
      `CREATE TRIGGER ${trigger} BEFORE INSERT ON ImageJob FOR EACH ROW
         IF NEW.prompt = '${marker} A' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test';
         ELSEIF NEW.prompt = '${marker} B' THEN SELECT available INTO @gate FROM CreditAccount WHERE id = '${gate}' FOR UPDATE;
         END IF`,
    );
    let b!: ReturnType<ChatUserCall>;
    try {
      await sg.db.$transaction(
        async (tx) => {
          await tx.$queryRaw`SELECT id FROM CreditAccount WHERE id = ${gate} FOR UPDATE`;
          b = user.call(CREATE_IMAGE_JOB, { input: input('B') });
          await waitFor(async () => (await sg.db.reservation.count({ where: { userId: user.id, status: 'HELD' } })) === 1, 20_000, "B's hold");
          const a = await user.call(CREATE_IMAGE_JOB, { input: input('A') });
          expect(a.body.errors?.length).toBeGreaterThan(0);
          // A failed, and left the shared hold to the sweep.
          expect(await sg.db.reservation.findMany({ where: { userId: user.id }, select: { status: true } })).toEqual([{ status: 'HELD' }]);
        },
        { timeout: 30_000, maxWait: 30_000 },
      );
    } finally {
      await sg.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${trigger}`);
    }
    const job = expectData(await b).createImageJob as ImageJobView;
    expect(await waitForFinishedJob(user, job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });

    // The sweep, past the grace, forgets A's parked hold: a job uses it (already settled here; nothing changes).
    const credits = createCreditsClient({ url: sg.subgraphUrls.billing, secret: sg.internalTokenSecret, service: 'image' });
    const sweepDeps = { db: sg.db, services: { redis: sg.redis, credits }, logger: createLogger({ service: 'e2e', level: 'silent' }) };
    await sweepOrphanedHolds(sweepDeps, { now: Date.now() + ORPHANED_HOLD_GRACE_MS + 1 });
    expect(await sg.db.reservation.findMany({ where: { userId: user.id }, select: { status: true, settledAmount: true } })).toEqual([{ status: 'SETTLED', settledAmount: PER_IMAGE }]);

    // A request whose INSERTs both fail and whose job no one stores: its hold stays HELD until the grace is over, then
    // the sweep releases it.
    const lone = `lone-${randomUUID().slice(0, 8)}`;
    const refuse = `refuse_${lone.replace(/-/g, '_')}`;
    await sg.db.$executeRawUnsafe(
      `CREATE TRIGGER ${refuse} BEFORE INSERT ON ImageJob FOR EACH ROW
         IF NEW.prompt = '${lone}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by the test'; END IF`,
    );
    try {
      const failed = await user.call(CREATE_IMAGE_JOB, { input: { prompt: lone, model: TURBO, size: '1280*720', count: 1, idempotencyKey: `lone-${randomUUID()}` } });
      expect(failed.body.errors?.length).toBeGreaterThan(0);
    } finally {
      await sg.db.$executeRawUnsafe(`DROP TRIGGER IF EXISTS ${refuse}`);
    }
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * PER_IMAGE, reserved: PER_IMAGE });
    await sweepOrphanedHolds(sweepDeps);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * PER_IMAGE, reserved: PER_IMAGE });
    await sweepOrphanedHolds(sweepDeps, { now: Date.now() + ORPHANED_HOLD_GRACE_MS + 1 });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - PER_IMAGE, reserved: 0 });
  });

  it('refuses what the catalog does not allow, naming the field, and creates nothing without enough credits', async () => {
    const user = await createChatUser(sg, 3);
    const cases: [Record<string, unknown>, string][] = [
      [{ prompt: '   ' }, 'prompt'],
      [{ prompt: 'x'.repeat(801) }, 'prompt'],
      [{ prompt: 'ok', model: 'no-such-model' }, 'model'],
      [{ prompt: 'ok', model: TURBO, size: '999*999' }, 'size'],
      [{ prompt: 'ok', model: TURBO, count: 5 }, 'count'],
      [{ prompt: 'ok', model: TURBO, count: 0 }, 'count'],
      [{ prompt: 'ok', seed: -1 }, 'seed'],
      [{ prompt: 'ok', negativePrompt: 'n'.repeat(501) }, 'negativePrompt'],
    ];
    for (const [input, field] of cases) expect(errorOf(await user.call(CREATE_IMAGE_JOB, { input })), field).toMatchObject({ code: 'BAD_USER_INPUT', field });
    expect(errorOf(await user.call(CREATE_IMAGE_JOB, { input: { prompt: 'too expensive', model: TURBO } }))).toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(0);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 3, reserved: 0 });
    const anonymous = await sg.request(CREATE_IMAGE_JOB, { variables: { input: { prompt: 'hi' } } });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('turns a DashScope content-moderation refusal into FAILED with CONTENT_REJECTED, hold released', async () => {
    const user = await createChatUser(sg, 100);
    const created = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: 'sim:inspection please', count: 2 } })).createImageJob as ImageJobView;
    const job = await waitForFinishedJob(user, created.id);
    expect(job).toMatchObject({ status: 'FAILED', errorCode: 'CONTENT_REJECTED', errorService: null, creditsCharged: 0, images: [] });
    expect(job.error).toMatch(/moderation/);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
  });

  it('marks a failed DashScope task FAILED and releases the hold; a partial failure charges only the images produced', async () => {
    const user = await createChatUser(sg, 100);
    sg.simulator.setFaults([{ kind: 'taskFailed', times: 1 }]);
    const failed = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: `doomed ${Date.now()}`, count: 3 } })).createImageJob as ImageJobView;
    expect(await waitForFinishedJob(user, failed.id)).toMatchObject({ status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', errorService: 'dashscope', creditsCharged: 0, images: [] });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });

    sg.simulator.setFaults([{ kind: 'partialFailure', failedImages: 1, times: 1 }]);
    const partial = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: `partly ${Date.now()}`, count: 3 } })).createImageJob as ImageJobView;
    const job = await waitForFinishedJob(user, partial.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 2 * PER_IMAGE });
    expect(job.images).toHaveLength(2);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * PER_IMAGE, reserved: 0 });
    sg.simulator.setFaults([]);
  });

  it('keeps jobs to their owner: another user sees null', async () => {
    const owner = await createChatUser(sg, 100);
    const created = expectData(await owner.call(CREATE_IMAGE_JOB, { input: { prompt: 'private pond' } })).createImageJob as ImageJobView;
    const stranger = await createChatUser(sg, 0);
    const seen = await stranger.call(`query { imageJob(id: "${created.id}") { id } }`);
    expect(seen.body.data?.imageJob).toBeNull();
    await waitForFinishedJob(owner, created.id);
    await waitFor(async () => (await sg.db.imageJob.findUnique({ where: { id: created.id } }))?.creditsCharged !== null, 5_000, 'settlement');
  });

  it('cancels a RUNNING job (never charged) and deletes an image so its URL stops working', async () => {
    const user = await createChatUser(sg, 100);
    sg.simulator.setFaults([{ kind: 'stuckRunning', times: 1 }]);
    const stuck = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: `forever ${Date.now()}`, count: 2 } })).createImageJob as ImageJobView;
    await waitFor(async () => (await sg.db.imageJob.findUnique({ where: { id: stuck.id } }))?.taskId, 10_000, 'the task to be submitted');
    const canceled = expectData(await user.call(`mutation Cancel($id: ID!) { cancelImageJob(id: $id) { id status creditsCharged } }`, { id: stuck.id })).cancelImageJob;
    expect(canceled).toMatchObject({ id: stuck.id, status: 'CANCELED', creditsCharged: 0 });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
    sg.simulator.setFaults([]);
    const stranger = await createChatUser(sg, 0);
    expect(errorOf(await stranger.call(`mutation { cancelImageJob(id: "${stuck.id}") { id } }`))).toMatchObject({ code: 'NOT_FOUND' });

    const created = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: `keep then delete ${Date.now()}` } })).createImageJob as ImageJobView;
    const job = await waitForFinishedJob(user, created.id);
    expect(errorOf(await user.call(`mutation { cancelImageJob(id: "${created.id}") { id } }`))).toMatchObject({ code: 'CONFLICT' });
    const image = job.images[0]!;
    expect((await fetch(image.url)).status).toBe(200);
    expect(errorOf(await stranger.call(`mutation { deleteImage(id: "${image.id}") }`))).toMatchObject({ code: 'NOT_FOUND' });
    expect(expectData(await user.call(`mutation { deleteImage(id: "${image.id}") }`)).deleteImage).toBe(true);
    expect((await fetch(image.url)).status).toBe(404);
    expect(errorOf(await user.call(`mutation { deleteImage(id: "${image.id}") }`))).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('settles at the price the credits were held at, with no price request to billing; older jobs still ask billing', async () => {
    const admin = await seedUserWithHistory(sg.db, { tenantId: 'default', conversations: 0, imageJobs: 0, credits: 0 });
    await sg.db.user.update({ where: { id: admin.user.id }, data: { roles: 'USER,ADMIN' } });
    const adminToken = await sg.tokenFor({ ...admin.user, roles: ['USER', 'ADMIN'] });
    const price = async (pricePerImage: number) => {
      const input = { id: PRICED_MODEL, name: 'Priced painter', sizes: ['1024*1024'], maxCount: 4, pricePerImage };
      expect((await sg.request('mutation U($input: ImageModelInput!) { upsertImageModel(input: $input) { id } }', { token: adminToken, variables: { input } })).body.errors).toBeUndefined();
    };
    await price(3);
    // No worker while the price changes: both jobs are held at 3 credits an image and still QUEUED when it does.
    await worker.stop();
    const user = await createChatUser(sg, 100);
    const create = async (prompt: string) => expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt, model: PRICED_MODEL, count: 2 } })).createImageJob as ImageJobView;
    const held = await create(`held price ${Date.now()}`);
    const older = await create(`older job ${Date.now()}`);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * 2 * 3, reserved: 2 * 2 * 3 });
    expect(await sg.db.imageJob.findUnique({ where: { id: held.id }, select: { creditsHeld: true, creditsPerImage: true } })).toEqual({ creditsHeld: 6, creditsPerImage: 3 });
    // A job created before the held price was stored has neither column.
    await sg.db.imageJob.update({ where: { id: older.id }, data: { creditsHeld: null, creditsPerImage: null } });
    await price(7);

    worker = await startImageWorker(sg);
    expect(await waitForFinishedJob(user, held.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 2 * 3 });
    expect(await waitForFinishedJob(user, older.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 2 * 3 });
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100 - 2 * 2 * 3, reserved: 0 });
    // Billing calls naming each job's reservation: the held price settles in one, the older job quotes first.
    const callsFor = async (jobId: string) => {
      const { reservationId } = (await sg.db.imageJob.findUnique({ where: { id: jobId }, select: { reservationId: true } }))!;
      // A call retried after a transport failure counts once.
      return [...new Set(worker.billingCalls.filter((call) => JSON.stringify(call.variables).includes(reservationId!)).map((call) => call.operationName))];
    };
    expect(await callsFor(held.id)).toEqual(['SettleReservation']);
    expect(await callsFor(older.id)).toEqual(['ImageCost', 'SettleReservation']);
  });
});
