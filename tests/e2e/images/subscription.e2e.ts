/**
 * imageJobUpdated through the gateway over graphql-ws, end to end and as separate processes: the gateway, the user,
 * billing and image subgraphs and an image worker (apps/image-worker) each run on their own; the worker writes the
 * job's progress stream in Redis, the image subgraph follows it and the gateway adds the owner's fields from the
 * user and billing subgraphs to every event. DashScope and OSS are the simulators; MariaDB and Redis are real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codesOf, collect, connectClient, type TestClient } from '../../src/subscription-client.ts';
import { balanceOf, createChatUser, type ChatUser } from '../../src/subscription-chat.ts';
import { eventually, readMetric } from '../../src/subscription-processes.ts';
import { CANCEL_JOB, createJob, JOB_UPDATES, startImageStack, statusRank, type ImageStack, type JobEvent } from '../../src/image-stack.ts';

/** wanx2.1-t2i-turbo costs 4 credits an image (seed catalog). */
const TURBO = 'wanx2.1-t2i-turbo';
const PER_IMAGE = 4;

let images: ImageStack;
const clients: TestClient[] = [];

function client(user: ChatUser): TestClient {
  const c = connectClient(images.stack.wsUrl(), { token: user.token });
  clients.push(c);
  return c;
}

const events = (results: { data?: Record<string, unknown> | null }[]) => results.map((r) => r.data!.imageJobUpdated as JobEvent);
const imageOrigin = () => images.stack.services.image![0]!.origin;
const openSubscriptions = async () => (await readMetric(imageOrigin(), 'image_job_subscriptions')) ?? -1;

beforeAll(async () => {
  // A long queue lock: on a loaded machine a short one lets BullMQ hand a slow job to a second runner (not this test's subject).
  images = await startImageStack({ simulator: { taskPendingMs: 300, taskRunningMs: 1_200 }, workerEnv: { IMAGE_WORKER_LOCK_MS: '15000' } });
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await images?.stop();
});

describe('imageJobUpdated through the gateway', () => {
  // The first job also pays for each process's first run of the job path (tsx compiles modules as they load): 28–30 s
  // at load 35–46, past the default 30 s; a timeout is no protocol bound here.
  it('starts with the current state, follows every change in order and ends with the settled job, its images and the owner\'s balance', async () => {
    const alice = await createChatUser(images.stack, 100);
    const job = await createJob(images.stack, alice, { prompt: `lanterns over the river ${Date.now()}`, model: TURBO, count: 2 });
    const sub = collect(client(alice).client, JOB_UPDATES, { jobId: job.id });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    expect(sub.results.every((r) => r.errors === undefined)).toBe(true);
    const seen = events(sub.results);

    // Several events (queued or running first, then progress), never going back, each one a visible change.
    expect(seen.length).toBeGreaterThanOrEqual(3);
    expect(['QUEUED', 'RUNNING']).toContain(seen[0]!.status);
    for (let i = 1; i < seen.length; i++) {
      expect(statusRank(seen[i]!.status)).toBeGreaterThanOrEqual(statusRank(seen[i - 1]!.status));
      expect(seen[i]!.progress).toBeGreaterThanOrEqual(seen[i - 1]!.progress);
      expect(`${seen[i]!.status}${seen[i]!.progress}${seen[i]!.creditsCharged}`).not.toBe(`${seen[i - 1]!.status}${seen[i - 1]!.progress}${seen[i - 1]!.creditsCharged}`);
    }
    expect(seen.slice(0, -1).every((e) => e.status === 'QUEUED' || e.status === 'RUNNING')).toBe(true);
    expect(seen.some((e) => e.status === 'RUNNING' && e.progress > 0 && e.progress < 1)).toBe(true);
    // Images appear once stored, never before: none while queued or while DashScope still renders (progress up to 0.8,
    // events answered without reading the images), and a step after the first of the two downloads carries that one.
    const stored = await images.stack.db.image.findMany({ where: { jobId: job.id }, select: { id: true } });
    expect(stored).toHaveLength(2);
    for (const event of seen.slice(0, -1)) {
      if (event.status === 'QUEUED' || event.progress <= 0.8) expect(event.images).toEqual([]);
      else {
        expect(event.images.length).toBeGreaterThanOrEqual(1);
        for (const image of event.images) expect(stored.map((s) => s.id)).toContain(image.id);
      }
    }

    // The last event: settled, with the images (each URL answers an image) and the owner's balance after the charge.
    const last = seen.at(-1)!;
    expect(last).toMatchObject({ id: job.id, status: 'SUCCEEDED', progress: 1, creditsCharged: 2 * PER_IMAGE, errorCode: null });
    expect(last.images).toHaveLength(2);
    for (const image of last.images) {
      const served = await fetch(image.url);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^image\//);
    }
    expect(last.owner).toMatchObject({ id: alice.id, displayName: alice.displayName, creditBalance: { available: 100 - 2 * PER_IMAGE, reserved: 0 } });
    expect(await balanceOf(images.stack.db, alice.id)).toEqual({ available: 100 - 2 * PER_IMAGE, reserved: 0 });
    await eventually(async () => (await openSubscriptions()) === 0, 'the image subgraph to have no open subscription');
  }, 120_000);

  it('answers a finished job with one event and ends', async () => {
    const alice = await createChatUser(images.stack, 100);
    const job = await createJob(images.stack, alice, { prompt: `a finished job ${Date.now()}`, model: TURBO });
    await eventually(async () => (await images.stack.db.imageJob.findUnique({ where: { id: job.id } }))?.creditsCharged != null, 'the job to settle', 20_000);
    const sub = collect(client(alice).client, JOB_UPDATES, { jobId: job.id });
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    expect(events(sub.results)).toEqual([expect.objectContaining({ id: job.id, status: 'SUCCEEDED', creditsCharged: PER_IMAGE })]);
  });

  it('refuses another user\'s job and an unknown id exactly alike, and an anonymous caller', async () => {
    const alice = await createChatUser(images.stack, 100);
    const mallory = await createChatUser(images.stack, 100);
    const job = await createJob(images.stack, alice, { prompt: `not yours ${Date.now()}`, model: TURBO });
    for (const jobId of [job.id, '00000000-0000-4000-8000-000000000000']) {
      const sub = collect(client(mallory).client, JOB_UPDATES, { jobId });
      const outcome = await sub.outcome;
      const errors = outcome.kind === 'error' ? outcome.error : sub.results[0]?.errors;
      expect(codesOf(errors)).toEqual(['NOT_FOUND']);
      expect(sub.results.every((r) => r.data == null)).toBe(true);
    }
    const anonymous = connectClient(images.stack.wsUrl());
    clients.push(anonymous);
    const sub = collect(anonymous.client, JOB_UPDATES, { jobId: job.id });
    const outcome = await sub.outcome;
    // The gateway refuses a subscription without a signed-in user at connection time (4403 Forbidden).
    expect(outcome.kind).toBe('error');
    expect(sub.results).toEqual([]);
    expect(anonymous.closes).toEqual([{ code: 4403, reason: 'Forbidden' }]);
  });

  it('a client that leaves frees its subscription at once, and coming back starts from the current state and still sees the end', async () => {
    const alice = await createChatUser(images.stack, 100);
    const job = await createJob(images.stack, alice, { prompt: `come back later ${Date.now()}`, model: TURBO, count: 3 });
    const first = client(alice);
    const before = collect(first.client, JOB_UPDATES, { jobId: job.id });
    await before.waitFor(1);
    await eventually(async () => (await openSubscriptions()) === 1, 'one open subscription');
    before.unsubscribe();
    await eventually(async () => (await openSubscriptions()) === 0, 'the subscription to be returned', 3_000);
    const lastSeen = events(before.results).at(-1)!;

    const after = collect(client(alice).client, JOB_UPDATES, { jobId: job.id });
    expect(await after.outcome).toEqual({ kind: 'complete' });
    const seen = events(after.results);
    expect(statusRank(seen[0]!.status)).toBeGreaterThanOrEqual(statusRank(lastSeen.status));
    expect(seen[0]!.progress).toBeGreaterThanOrEqual(lastSeen.progress);
    expect(seen.at(-1)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 3 * PER_IMAGE });
  });

  it('a cancelled job ends the stream with CANCELED, never charged', async () => {
    const alice = await createChatUser(images.stack, 100);
    const job = await createJob(images.stack, alice, { prompt: `cancel me ${Date.now()}`, model: TURBO });
    const sub = collect(client(alice).client, JOB_UPDATES, { jobId: job.id });
    await sub.waitFor(1);
    const cancelled = await images.stack.request(CANCEL_JOB, { token: alice.token, variables: { id: job.id } });
    expect(cancelled.body.errors).toBeUndefined();
    expect(await sub.outcome).toEqual({ kind: 'complete' });
    expect(events(sub.results).at(-1)).toMatchObject({ status: 'CANCELED', creditsCharged: 0, images: [], owner: { creditBalance: { available: 100, reserved: 0 } } });
  });
});
