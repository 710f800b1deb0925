/**
 * The image worker as its own process, killed and doubled: kill -9 mid-job and mid-settlement, two workers on one
 * queue, and jobs the queue lost (a crash between storing a job and queueing it). Whatever happens, a job ends once,
 * with one DashScope task and its credits settled exactly once. Gateway, subgraphs and workers are separate
 * processes; DashScope and OSS are the simulators; MariaDB and Redis are real.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@firefly/logger';
import { createImageQueue, type ImageQueue } from '@firefly/image-jobs';
import { balanceOf, createChatUser } from '../../src/subscription-chat.ts';
import { eventually, type ManagedProcess } from '../../src/subscription-processes.ts';
import { startTcpProxy, type TcpProxy } from '../../src/tcp-proxy.ts';
import { chargesOf, createJob, startImageStack, storedJob, type ImageStack } from '../../src/image-stack.ts';

const TURBO = 'wanx2.1-t2i-turbo';
const PER_IMAGE = 4;
/** Long enough that a loaded machine does not lose locks of live workers; a dead one's job is taken over in ~8 s. */
const LOCK_MS = '4000';

let images: ImageStack;
let billingProxy: TcpProxy;
let queue: ImageQueue;
let running: ManagedProcess[] = [];

async function worker(env: Record<string, string> = {}): Promise<ManagedProcess> {
  const started = await images.startWorker(env);
  running.push(started);
  return started;
}

/** Waits until the job ended and its credits were settled (or released). */
function settled(jobId: string, timeoutMs = 60_000) {
  return eventually(async () => {
    const job = await storedJob(images.stack, jobId);
    return job.creditsCharged !== null ? job : undefined;
  }, `job ${jobId} to end with its credits settled`, timeoutMs, 100);
}

/** Asserts the job's whole story: one DashScope task, one charge of `images` images, nothing left on hold. */
async function expectChargedOnce(jobId: string, prompt: string, userId: string, start: number, count: number) {
  expect(images.submitsFor(prompt)).toHaveLength(1);
  expect(await chargesOf(images.stack, jobId)).toBe(1);
  expect(await images.stack.db.image.count({ where: { jobId, deletedAt: null } })).toBe(count);
  expect(await balanceOf(images.stack.db, userId)).toEqual({ available: start - count * PER_IMAGE, reserved: 0 });
}

beforeAll(async () => {
  images = await startImageStack({
    workers: 0,
    simulator: { taskPendingMs: 500, taskRunningMs: 4_000 },
    workerEnv: { IMAGE_WORKER_LOCK_MS: LOCK_MS },
    imageEnv: { IMAGE_JOB_SWEEP_INTERVAL_SECONDS: '1' },
    workerBillingUrl: async (url) => {
      billingProxy = await startTcpProxy(url);
      return billingProxy.url;
    },
  });
  queue = createImageQueue({ redisUrl: images.stack.env.REDIS_URL!, keyPrefix: images.stack.env.REDIS_KEY_PREFIX!, logger: createLogger({ service: 'test', level: 'silent' }), attempts: 5, backoffMs: 200 });
}, 120_000);

afterEach(async () => {
  billingProxy.setDown(false);
  images.dashscope.setFaults([]);
  await Promise.all(running.map((w) => w.stop(5_000)));
  running = [];
});

afterAll(async () => {
  await queue?.close();
  await images?.stop();
  await billingProxy?.close();
});

describe('the image worker under kill -9', () => {
  it('a worker killed while polling DashScope: the next worker resumes the same task; one task, one charge', async () => {
    const first = await worker();
    const alice = await createChatUser(images.stack, 100);
    const prompt = `killed while polling ${Date.now()}`;
    const job = await createJob(images.stack, alice, { prompt, model: TURBO, count: 2 });
    await eventually(async () => (await storedJob(images.stack, job.id)).taskId, 'the DashScope task to be recorded', 30_000);
    await first.kill();
    expect((await storedJob(images.stack, job.id)).status).toBe('RUNNING');

    await worker();
    expect(await settled(job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 2 * PER_IMAGE, progress: 1 });
    await expectChargedOnce(job.id, prompt, alice.id, 100, 2);
  }, 120_000);

  it('a worker killed after DashScope accepted the submit but before the task id was stored: the next worker finds that task and follows it; one task, one charge', async () => {
    const first = await worker();
    const alice = await createChatUser(images.stack, 100);
    const prompt = `killed while submitting ${Date.now()}`;
    // DashScope makes the task but its answer never reaches the worker: the task id exists only at DashScope.
    images.dashscope.setFaults([{ kind: 'lostAnswer', times: 1 }]);
    const job = await createJob(images.stack, alice, { prompt, model: TURBO, count: 2 });
    await eventually(async () => images.submitsFor(prompt).length === 1, 'DashScope to accept the submit', 30_000, 50);
    const marked = await images.stack.db.imageJob.findUniqueOrThrow({ where: { id: job.id }, select: { taskId: true, submitStartedAt: true } });
    expect(marked.taskId).toBeNull();
    expect(marked.submitStartedAt).not.toBeNull();
    await first.kill();

    const second = await worker();
    expect(await settled(job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 2 * PER_IMAGE, progress: 1 });
    // The one task DashScope made is the job's: no second submit, one charge.
    await expectChargedOnce(job.id, prompt, alice.id, 100, 2);
    expect(second.logs.find((l) => l.msg === 'resolved an interrupted DashScope submit')).toMatchObject({ outcome: 'adopted', jobId: job.id });
  }, 120_000);

  it('a submit whose answer is lost (DashScope timed out on the worker): the retry finds the task instead of submitting another', async () => {
    const only = await worker({ DASHSCOPE_TIMEOUT_MS: '3000' });
    const alice = await createChatUser(images.stack, 100);
    const prompt = `answer lost ${Date.now()}`;
    images.dashscope.setFaults([{ kind: 'lostAnswer', times: 1 }]);
    const job = await createJob(images.stack, alice, { prompt, model: TURBO, count: 1 });
    expect(await settled(job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    await expectChargedOnce(job.id, prompt, alice.id, 100, 1);
    expect(only.logs.find((l) => l.msg === 'resolved an interrupted DashScope submit')).toMatchObject({ outcome: 'adopted' });
  }, 120_000);

  it('a worker killed after the images were stored but before billing answered: the next one settles, once', async () => {
    const first = await worker();
    const alice = await createChatUser(images.stack, 100);
    const prompt = `killed while settling ${Date.now()}`;
    billingProxy.setDown(true);
    const job = await createJob(images.stack, alice, { prompt, model: TURBO, count: 1 });
    await eventually(async () => (await storedJob(images.stack, job.id)).status === 'SUCCEEDED', 'the images to be stored', 40_000, 100);
    await first.kill();
    expect(await storedJob(images.stack, job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: null });
    expect(await balanceOf(images.stack.db, alice.id)).toEqual({ available: 100 - PER_IMAGE, reserved: PER_IMAGE });

    billingProxy.setDown(false);
    await worker();
    expect(await settled(job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    await expectChargedOnce(job.id, prompt, alice.id, 100, 1);
  }, 120_000);
});

describe('two workers on one queue', () => {
  it('share the jobs, and no job runs twice: one task and one charge each', async () => {
    const workers = [await worker({ IMAGE_WORKER_CONCURRENCY: '2' }), await worker({ IMAGE_WORKER_CONCURRENCY: '2' })];
    const users = [await createChatUser(images.stack, 100), await createChatUser(images.stack, 100)];
    const stamp = Date.now();
    const jobs = await Promise.all(
      Array.from({ length: 10 }, async (_, i) => {
        const user = users[i % 2]!;
        const prompt = `shared queue ${stamp} #${i}`;
        return { user, prompt, job: await createJob(images.stack, user, { prompt, model: TURBO, count: 1 }) };
      }),
    );
    for (const { job } of jobs) expect(await settled(job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    for (const { job, prompt } of jobs) {
      expect(images.submitsFor(prompt)).toHaveLength(1);
      expect(await chargesOf(images.stack, job.id)).toBe(1);
    }
    for (const user of users) expect(await balanceOf(images.stack.db, user.id)).toEqual({ available: 100 - 5 * PER_IMAGE, reserved: 0 });
    // Both processes ran some of them.
    const ran = workers.map((w) => new Set(w.logs.filter((l) => l.msg === 'DashScope task submitted').map((l) => l.jobId)));
    expect(ran[0]!.size).toBeGreaterThan(0);
    expect(ran[1]!.size).toBeGreaterThan(0);
    expect(ran[0]!.size + ran[1]!.size).toBe(10);
  }, 120_000);
});

describe('jobs the queue lost', () => {
  it('a job stored QUEUED but never queued (crash between the row and the queue) is queued again and runs once', async () => {
    const alice = await createChatUser(images.stack, 100);
    const prompt = `never queued ${Date.now()}`;
    const job = await createJob(images.stack, alice, { prompt, model: TURBO, count: 1 });
    // No worker yet: take the entry out of the queue, as if the subgraph died before adding it.
    expect(await queue.removeWaiting(job.id)).toBe(true);
    expect(await queue.isQueued(job.id)).toBe(false);
    await eventually(() => queue.isQueued(job.id), 'the sweeper to queue the job again', 15_000, 100);

    await worker();
    expect(await settled(job.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: PER_IMAGE });
    await expectChargedOnce(job.id, prompt, alice.id, 100, 1);
  }, 120_000);

  it('a lost job older than half its credit hold is failed and its hold released instead', async () => {
    const alice = await createChatUser(images.stack, 100);
    const prompt = `lost for too long ${Date.now()}`;
    const job = await createJob(images.stack, alice, { prompt, model: TURBO, count: 1 });
    expect(await queue.removeWaiting(job.id)).toBe(true);
    await images.stack.db.imageJob.update({ where: { id: job.id }, data: { createdAt: new Date(Date.now() - 13 * 3600_000) } });
    expect(await settled(job.id, 15_000)).toMatchObject({ status: 'FAILED', errorCode: 'UPSTREAM_UNAVAILABLE', creditsCharged: 0 });
    // The job names what was unavailable: no image worker ran it.
    expect((await images.stack.db.imageJob.findUniqueOrThrow({ where: { id: job.id } })).errorService).toBe('image-worker');
    expect(images.submitsFor(prompt)).toHaveLength(0);
    expect(await chargesOf(images.stack, job.id)).toBe(0);
    expect(await balanceOf(images.stack.db, alice.id)).toEqual({ available: 100, reserved: 0 });
  }, 120_000);
});
