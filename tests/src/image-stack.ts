/**
 * Image generation as separate processes: the gateway, the user, billing and image subgraphs (subscription-stack.ts)
 * and image workers from apps/image-worker/src/main.ts, each its own process, so a test can kill -9 a worker
 * mid-job; the DashScope and OSS simulators run in the test process (they outlive any worker).
 */
import { startDashScopeSimulator, type DashScopeSimulator, type DashScopeSimulatorOptions } from '@firefly/dashscope-simulator';
import { startOssSimulator, type OssSimulator } from '@firefly/oss-simulator';
import type { ImageJobView } from './image-helpers.ts';
import type { ChatUser } from './subscription-chat.ts';
import { startProcess, type ManagedProcess } from './subscription-processes.ts';
import { startStack, type Stack } from './subscription-stack.ts';

/** Quick jobs: fast polls, short locks (a killed worker's job is taken over within ~2 s). */
const FAST_WORKER_ENV = {
  IMAGE_TASK_POLL_INITIAL_MS: '100',
  IMAGE_TASK_POLL_MAX_MS: '300',
  IMAGE_WORKER_LOCK_MS: '2000',
  IMAGE_JOB_BACKOFF_MS: '200',
  // Every poll's step goes out, so short test tasks still show progress.
  IMAGE_PROGRESS_MIN_INTERVAL_MS: '100',
};

/** The processes of an image stack, wherever its simulators run. */
export interface ImageStackCore {
  stack: Stack;
  workers: ManagedProcess[];
  /** The simulators' process, when they run in one of their own (startImageStackWithSimulatorProcess). */
  simulatorProcess?: ManagedProcess;
  /** Starts one more image worker process (IMAGE_WORKER_PORT 0). */
  startWorker(env?: Record<string, string>): Promise<ManagedProcess>;
  stop(): Promise<void>;
}

/** An image stack whose simulators run in this process: tests reach them (faults, recorded requests). */
export interface ImageStack extends ImageStackCore {
  dashscope: DashScopeSimulator;
  oss: OssSimulator;
  /** DashScope submits of image tasks whose prompt contains `text`. */
  submitsFor(text: string): unknown[];
}

export interface ImageStackOptions {
  workers?: number;
  simulator?: DashScopeSimulatorOptions;
  /** Extra environment for the image workers. */
  workerEnv?: Record<string, string>;
  /** Extra environment for the image subgraph. */
  imageEnv?: Record<string, string>;
  /** Extra environment for the billing and user subgraphs. */
  billingEnv?: Record<string, string>;
  userEnv?: Record<string, string>;
  /** Extra `node` flags per process (e.g. `--cpu-prof`): the gateway, each subgraph, the workers. */
  nodeArgs?: { gateway?: string[]; user?: string[]; billing?: string[]; image?: string[]; worker?: string[] };
  /** Billing URL the workers call (e.g. through a TCP proxy); default billing's own. */
  workerBillingUrl?: (billingUrl: string) => Promise<string>;
}

const SIMULATOR_DEFAULTS: DashScopeSimulatorOptions = { taskPendingMs: 150, taskRunningMs: 400, maxConcurrentTasksPerModel: 50 };

export async function startImageStack(options: ImageStackOptions = {}): Promise<ImageStack> {
  const dashscope = await startDashScopeSimulator({ ...SIMULATOR_DEFAULTS, ...options.simulator });
  const oss = await startOssSimulator();
  const external = { DASHSCOPE_BASE_URL: dashscope.baseUrl, DASHSCOPE_API_KEY: dashscope.apiKey, OSS_ENDPOINT: oss.localUrl };
  const core = await startCore(options, external, () => Promise.all([dashscope.close(), oss.close()]).then(() => undefined));
  return {
    ...core,
    dashscope,
    oss,
    submitsFor: (text) => dashscope.requests.filter((r) => r.endpoint === 'imageSynthesis' && JSON.stringify(r.body).includes(text)),
  };
}

/**
 * The stack with the DashScope and OSS simulators in a child process of their own (tests/src/image-simulators-main.ts):
 * no faults or recorded requests then, but the simulated provider's work (rendering, serving and storing PNGs) never
 * delays the caller's process — the benchmark stamps subscription events there.
 */
export async function startImageStackWithSimulatorProcess(options: ImageStackOptions = {}): Promise<ImageStackCore> {
  const simulators = await startProcess('image-simulators', 'tests/src/image-simulators-main.ts', {
    IMAGE_SIMULATORS_OPTIONS: JSON.stringify({ ...SIMULATOR_DEFAULTS, ...options.simulator }),
  });
  const ready = simulators.logs.find((line) => line.msg === 'image simulators ready')!;
  const external = { DASHSCOPE_BASE_URL: String(ready.dashscopeBaseUrl), DASHSCOPE_API_KEY: String(ready.dashscopeApiKey), OSS_ENDPOINT: String(ready.ossUrl) };
  return { ...(await startCore(options, external, () => simulators.stop(5_000).then(() => undefined))), simulatorProcess: simulators };
}

async function startCore(options: ImageStackOptions, external: Record<string, string>, closeSimulators: () => Promise<void>): Promise<ImageStackCore> {
  let stack: Stack;
  try {
    const serviceEnv = { ...(options.imageEnv ? { image: options.imageEnv } : {}), ...(options.billingEnv ? { billing: options.billingEnv } : {}), ...(options.userEnv ? { user: options.userEnv } : {}) };
    const { gateway: gatewayNodeArgs, worker: _worker, ...serviceNodeArgs } = options.nodeArgs ?? {};
    stack = await startStack({ services: ['user', 'billing', 'image'], env: external, serviceEnv, serviceNodeArgs, ...(gatewayNodeArgs ? { gatewayNodeArgs } : {}) });
  } catch (error) {
    await closeSimulators();
    throw error;
  }
  const workers: ManagedProcess[] = [];
  const billingUrl = stack.services.billing![0]!.url;
  const workerBillingUrl = options.workerBillingUrl ? await options.workerBillingUrl(billingUrl) : billingUrl;
  const startWorker = async (env: Record<string, string> = {}) => {
    const worker = await startProcess(`image-worker-${workers.length + 1}`, 'apps/image-worker/src/main.ts', {
      ...stack.env,
      ...external,
      ...FAST_WORKER_ENV,
      IMAGE_WORKER_PORT: '0',
      BILLING_SUBGRAPH_URL: workerBillingUrl,
      ...options.workerEnv,
      ...env,
    }, { nodeArgs: options.nodeArgs?.worker ?? [] });
    workers.push(worker);
    return worker;
  };
  const image: ImageStackCore = {
    stack,
    workers,
    startWorker,
    async stop() {
      await Promise.all(workers.map((w) => w.stop(5_000)));
      await stack.stop();
      await closeSimulators();
    },
  };
  try {
    for (let i = 0; i < (options.workers ?? 1); i++) await startWorker();
  } catch (error) {
    await image.stop();
    throw error;
  }
  return image;
}

const JOB_FIELDS = 'id status progress error errorCode creditsCharged count images { id url width height contentType }';

const CREATE_JOB = `mutation CreateImageJob($input: CreateImageJobInput!) { createImageJob(input: $input) { ${JOB_FIELDS} } }`;
export const CANCEL_JOB = `mutation CancelImageJob($id: ID!) { cancelImageJob(id: $id) { ${JOB_FIELDS} } }`;

/** Every event, with fields from the image, user and billing subgraphs. */
export const JOB_UPDATES = /* GraphQL */ `
  subscription JobUpdates($jobId: ID!) {
    imageJobUpdated(jobId: $jobId) {
      ${JOB_FIELDS}
      owner { id displayName creditBalance { available reserved } }
    }
  }
`;

/** One job as the subscription's events carry it. */
export interface JobEvent extends Omit<ImageJobView, 'finishedAt'> {
  owner?: { id: string; displayName: string; creditBalance: { available: number; reserved: number } };
}

/** createImageJob through the gateway; throws on errors. */
export async function createJob(stack: Stack, user: ChatUser, input: Record<string, unknown>): Promise<JobEvent> {
  const response = await stack.request(CREATE_JOB, { token: user.token, variables: { input } });
  if (response.body.errors) throw new Error(`createImageJob: ${JSON.stringify(response.body.errors)}`);
  return response.body.data.createImageJob as JobEvent;
}

/** The stored job, straight from the database. */
export function storedJob(stack: Stack, jobId: string) {
  return stack.db.imageJob.findUniqueOrThrow({ where: { id: jobId }, select: { status: true, progress: true, taskId: true, creditsCharged: true, errorCode: true, reservationId: true } });
}

/** IMAGE_USAGE ledger entries booked for a job (a charge is one entry; none for a released hold). */
export function chargesOf(stack: Stack, jobId: string): Promise<number> {
  return stack.db.ledgerEntry.count({ where: { referenceId: jobId, reason: 'IMAGE_USAGE' } });
}

const STATUS_ORDER = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELED'];
/** Rank of a status in a job's life (the three terminal ones share the last rank). */
export const statusRank = (status: string) => Math.min(STATUS_ORDER.indexOf(status), 2);
