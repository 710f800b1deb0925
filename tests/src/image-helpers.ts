// Image generation in tests: an image worker started in this process (the same builder its main.ts uses), against
// the harness's database, Redis prefix, billing, DashScope simulator and OSS simulator; and the GraphQL documents.
import { createCreditsClient } from '@firefly/credits-client';
import { createDashScopeImageClient } from '@firefly/dashscope';
import { createLogger } from '@firefly/logger';
import { createObjectStorage } from '@firefly/oss';
import { buildImageWorker, loadImageWorkerConfig } from '@firefly/image-worker';
import type { Supergraph } from './harness.ts';
import { waitFor, type ChatUser } from './chat-helpers.ts';
import { getGlobalDispatcher } from 'undici';

const IMAGE_JOB_FIELDS = `id status progress error errorCode errorService creditsCharged count size model prompt finishedAt images { id url width height contentType }`;
export const CREATE_IMAGE_JOB = `mutation CreateImageJob($input: CreateImageJobInput!) { createImageJob(input: $input) { ${IMAGE_JOB_FIELDS} } }`;
const IMAGE_JOB = `query ImageJob($id: ID!) { imageJob(id: $id) { ${IMAGE_JOB_FIELDS} } }`;

/** Settings that make jobs quick in tests: fast polls, short locks (a dead worker's job is taken over within ~2 s). */
const FAST_WORKER_ENV = {
  IMAGE_TASK_POLL_INITIAL_MS: '100',
  IMAGE_TASK_POLL_MAX_MS: '300',
  IMAGE_WORKER_LOCK_MS: '2000',
  IMAGE_JOB_BACKOFF_MS: '200',
};

export interface TestImageWorker {
  url: string;
  /** Every call this worker made to billing, in order: its operation name and variables (as sent over HTTP). */
  billingCalls: { operationName: string; variables: Record<string, unknown> }[];
  stop(): Promise<void>;
}

export async function startImageWorker(sg: Supergraph, env: Record<string, string> = {}): Promise<TestImageWorker> {
  const config = loadImageWorkerConfig({ ...sg.imageEnv, BILLING_SUBGRAPH_URL: sg.subgraphUrls.billing, ...FAST_WORKER_ENV, ...env });
  const logger = createLogger({ service: 'image-worker-test', level: process.env.TEST_LOG_LEVEL ?? 'silent' });
  const billingCalls: TestImageWorker['billingCalls'] = [];
  const recording = getGlobalDispatcher().compose((dispatch) => (request, handler) => {
    const body = JSON.parse(String(request.body ?? '{}')) as { operationName?: string; variables?: Record<string, unknown> };
    billingCalls.push({ operationName: body.operationName ?? '', variables: body.variables ?? {} });
    return dispatch(request, handler);
  });
  const worker = buildImageWorker(config, {
    db: sg.db,
    redis: sg.redis,
    logger,
    credits: createCreditsClient({ url: sg.subgraphUrls.billing, secret: sg.internalTokenSecret, service: 'image', dispatcher: recording }),
    dashscope: createDashScopeImageClient({ baseUrl: config.dashscope.baseUrl, apiKey: config.dashscope.apiKey }),
    storage: createObjectStorage(config.oss),
  });
  const url = await worker.listen(0);
  return { url, billingCalls, stop: () => worker.stop() };
}

export interface ImageJobView {
  id: string;
  status: string;
  progress: number;
  error: string | null;
  errorCode: string | null;
  creditsCharged: number | null;
  count: number;
  finishedAt: string | null;
  images: { id: string; url: string; width: number; height: number; contentType: string }[];
}

/** Polls imageJob through the gateway until the job reached a terminal status and its credits were settled. */
export function waitForFinishedJob(user: ChatUser, jobId: string, timeoutMs = 20_000): Promise<ImageJobView> {
  return waitFor(
    async () => {
      const job = (await user.call(IMAGE_JOB, { id: jobId })).body.data?.imageJob as ImageJobView | undefined;
      return job && ['SUCCEEDED', 'FAILED', 'CANCELED'].includes(job.status) && job.creditsCharged !== null ? job : undefined;
    },
    timeoutMs,
    `image job ${jobId} to finish`,
  );
}
