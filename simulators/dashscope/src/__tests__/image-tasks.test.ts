import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readPngSize } from '../png.ts';
import { startDashScopeSimulator } from '../simulator.ts';
import type { DashScopeSimulator } from '../types.ts';

let sim: DashScopeSimulator;

// Long phases plus advanceClock: the tests decide when a task moves, nothing sleeps.
beforeAll(async () => {
  sim = await startDashScopeSimulator({ taskPendingMs: 10_000, taskRunningMs: 20_000, resultTtlMs: 3_600_000 });
});
afterAll(async () => {
  await sim.close();
});
beforeEach(() => sim.reset());

const SUBMIT = '/api/v1/services/aigc/text2image/image-synthesis';

interface TaskBody {
  request_id: string;
  output: {
    task_id: string;
    task_status: string;
    submit_time?: string;
    scheduled_time?: string;
    end_time?: string;
    code?: string;
    message?: string;
    task_metrics?: { TOTAL: number; SUCCEEDED: number; FAILED: number };
    results?: { url?: string; orig_prompt?: string; actual_prompt?: string; code?: string }[];
  };
  usage?: { image_count: number };
}

async function submit(parameters: Record<string, unknown> = {}, headers: Record<string, string> = {}, prompt = 'a red panda reading a book, watercolor') {
  const res = await fetch(`${sim.url}${SUBMIT}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json', 'x-dashscope-async': 'enable', ...headers },
    body: JSON.stringify({ model: 'wanx2.1-t2i-turbo', input: { prompt }, parameters: { size: '1024*1024', n: 2, ...parameters } }),
  });
  return { res, body: (await res.json()) as TaskBody & { code?: string } };
}

async function poll(taskId: string): Promise<TaskBody> {
  const res = await fetch(`${sim.url}/api/v1/tasks/${taskId}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as TaskBody;
}

describe('async image synthesis (docs/dashscope.md §5)', () => {
  it('runs PENDING → RUNNING → SUCCEEDED and serves real PNGs at signed URLs', async () => {
    const { res, body } = await submit();
    expect(res.status).toBe(200);
    expect(body.output.task_status).toBe('PENDING');
    expect(body.output.task_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(body.request_id).not.toBe(body.output.task_id);
    const id = body.output.task_id;

    const pending = await poll(id);
    expect(pending.output.task_status).toBe('PENDING');
    expect(pending.output.submit_time).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}$/);

    sim.advanceClock(15_000);
    const running = await poll(id);
    expect(running.output.task_status).toBe('RUNNING');
    expect(running.output.scheduled_time).toBeDefined();
    expect(running.output.task_metrics).toEqual({ TOTAL: 2, SUCCEEDED: 0, FAILED: 0 });

    sim.advanceClock(20_000);
    const done = await poll(id);
    expect(done.output.task_status).toBe('SUCCEEDED');
    expect(done.output.end_time).toBeDefined();
    expect(done.output.task_metrics).toEqual({ TOTAL: 2, SUCCEEDED: 2, FAILED: 0 });
    expect(done.usage).toEqual({ image_count: 2 });
    expect(done.output.results).toHaveLength(2);
    const first = done.output.results?.[0];
    expect(first?.orig_prompt).toBe('a red panda reading a book, watercolor');
    expect(first?.actual_prompt).toContain('a red panda');
    expect(first?.url).toMatch(/\/results\/\d{8}\/[0-9a-f-]{36}-1\.png\?Expires=\d+&OSSAccessKeyId=[^&]+&Signature=/);

    const image = await fetch(first?.url ?? '');
    expect(image.status).toBe(200);
    expect(image.headers.get('content-type')).toBe('image/png');
    const bytes = new Uint8Array(await image.arrayBuffer());
    expect(readPngSize(bytes)).toEqual({ width: 1024, height: 1024 });
    expect(bytes.length).toBeLessThan(200_000);

    const tampered = (first?.url ?? '').replace(/Signature=[^&]+/, 'Signature=forged');
    expect((await fetch(tampered)).status).toBe(403);

    // Past the TTL the URL expires and the task is forgotten (§5.2: re-host at once).
    sim.advanceClock(3_600_000);
    const expired = await fetch(first?.url ?? '');
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    expect((await poll(id)).output.task_status).toBe('UNKNOWN');
  });

  it('refuses a submit without X-DashScope-Async', async () => {
    const { res, body } = await submit({}, { 'x-dashscope-async': '' });
    expect(res.status).toBe(403);
    expect(body).toMatchObject({ code: 'AccessDenied', message: 'current user api does not support synchronous calls' });
  });

  it('validates size, n and prompt moderation', async () => {
    expect((await submit({ size: '1024x1024' })).body.code).toBe('InvalidParameter');
    expect((await submit({ size: '256*256' })).body.code).toBe('InvalidParameter');
    expect((await submit({ n: 5 })).body.code).toBe('InvalidParameter');
    const flagged = await submit({}, {}, 'sim:inspection cat');
    expect(flagged.res.status).toBe(400);
    expect(flagged.body.code).toBe('DataInspectionFailed');
  });

  it('reports UNKNOWN (HTTP 200) for an id it never issued', async () => {
    expect((await poll('1111')).output).toEqual({ task_id: '1111', task_status: 'UNKNOWN' });
  });

  it('cancels only PENDING tasks', async () => {
    const a = (await submit()).body.output.task_id;
    const cancel = (id: string) => fetch(`${sim.url}/api/v1/tasks/${id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${sim.apiKey}` } });
    expect((await cancel(a)).status).toBe(200);
    expect((await poll(a)).output.task_status).toBe('CANCELED');

    const b = (await submit()).body.output.task_id;
    sim.advanceClock(15_000);
    const refused = await cancel(b);
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ code: 'UnsupportedOperation' });
  });

  it('limits unfinished tasks per model with 429 Throttling.RateQuota', async () => {
    expect((await submit()).res.status).toBe(200);
    expect((await submit()).res.status).toBe(200);
    const third = await submit();
    expect(third.res.status).toBe(429);
    expect(third.body.code).toBe('Throttling.RateQuota');
  });

  it('injects whole-task failure, partial failure and a 503 on polling', async () => {
    sim.setFaults([{ kind: 'taskFailed', code: 'DataInspectionFailed', times: 1 }]);
    const failed = (await submit()).body.output.task_id;
    sim.setFaults([{ kind: 'partialFailure', failedImages: 1, times: 1 }]);
    const partial = (await submit({ n: 2 })).body.output.task_id;
    sim.advanceClock(60_000);

    expect((await poll(failed)).output).toMatchObject({ task_status: 'FAILED', code: 'DataInspectionFailed', task_metrics: { TOTAL: 2, SUCCEEDED: 0, FAILED: 2 } });
    const p = await poll(partial);
    expect(p.output.task_status).toBe('SUCCEEDED');
    expect(p.output.task_metrics).toEqual({ TOTAL: 2, SUCCEEDED: 1, FAILED: 1 });
    expect(p.usage).toEqual({ image_count: 1 });
    expect(p.output.results?.filter((r) => r.url)).toHaveLength(1);

    sim.setFaults([{ kind: 'serverError', status: 503, endpoints: ['taskQuery'], times: 1 }]);
    const res = await fetch(`${sim.url}/api/v1/tasks/${partial}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    expect(res.status).toBe(503);
    expect((await poll(partial)).output.task_status).toBe('SUCCEEDED');
  });

  it('takes ref_strength in [0, 1] and ref_mode repaint | refonly with a ref_img on wanx-v1, and nothing else', async () => {
    const submitV1 = async (input: Record<string, unknown>, parameters: Record<string, unknown>) => {
      const res = await fetch(`${sim.url}${SUBMIT}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json', 'x-dashscope-async': 'enable' },
        body: JSON.stringify({ model: 'wanx-v1', input: { prompt: 'a cat', ...input }, parameters: { size: '1024*1024', n: 1, ...parameters } }),
      });
      return { status: res.status, body: (await res.json()) as { code?: string; message?: string } };
    };
    const ref = { ref_img: 'http://127.0.0.1:1/ref.png' };
    expect((await submitV1(ref, { ref_strength: 0.4, ref_mode: 'refonly' })).status).toBe(200);
    expect((await submitV1(ref, { ref_strength: 0, ref_mode: 'repaint' })).status).toBe(200);
    for (const [input, parameters, message] of [
      [ref, { ref_strength: 1.2 }, /ref_strength/],
      [ref, { ref_strength: '0.5' }, /ref_strength/],
      [ref, { ref_mode: 'sketch' }, /ref_mode/],
      [{}, { ref_strength: 0.5 }, /need input.ref_img/],
    ] as const) {
      const answer = await submitV1(input, parameters);
      expect(answer.status).toBe(400);
      expect(answer.body.code).toBe('InvalidParameter');
      expect(answer.body.message).toMatch(message);
    }
  });

  it('lostAnswer: the task is made, its answer never comes; the list finds it by model and time window (YYYYMMDDhhmmss, China time)', async () => {
    sim.setFaults([{ kind: 'lostAnswer', times: 1, ms: 200 }]);
    const lost = await fetch(`${sim.url}${SUBMIT}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${sim.apiKey}`, 'content-type': 'application/json', 'x-dashscope-async': 'enable' },
      body: JSON.stringify({ model: 'wanx2.1-t2i-turbo', input: { prompt: 'lost' }, parameters: { size: '1024*1024', n: 1 } }),
    }).then(
      () => 'answered',
      () => 'dropped',
    );
    expect(lost).toBe('dropped');
    const china = (ms: number) => new Date(ms + 8 * 3600_000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
    const list = async (from: number, to: number, model = 'wanx2.1-t2i-turbo') => {
      const res = await fetch(`${sim.url}/api/v1/tasks?model_name=${model}&start_time=${china(from)}&end_time=${china(to)}`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
      return (await res.json()) as { data: { task_id: string; status: string; gmt_create: number }[] };
    };
    const now = Date.now();
    const found = await list(now - 60_000, now + 60_000);
    expect(found.data).toHaveLength(1);
    expect(found.data[0]!.status).toBe('PENDING');
    expect((await poll(found.data[0]!.task_id)).output.task_status).toBe('PENDING');
    expect((await list(now - 120_000, now - 60_000)).data).toHaveLength(0);
    expect((await list(now - 60_000, now + 60_000, 'wanx-v1')).data).toHaveLength(0);
    const bad = await fetch(`${sim.url}/api/v1/tasks?start_time=yesterday`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    expect(bad.status).toBe(400);
  });

  it('lists tasks with paging', async () => {
    await submit();
    await submit();
    const res = await fetch(`${sim.url}/api/v1/tasks?page_no=1&page_size=1`, { headers: { authorization: `Bearer ${sim.apiKey}` } });
    const body = (await res.json()) as { total: number; total_page: number; data: { status: string; model_name: string }[] };
    expect(body.total).toBe(2);
    expect(body.total_page).toBe(2);
    expect(body.data).toHaveLength(1);
    expect(body.data[0]).toMatchObject({ status: 'PENDING', model_name: 'wanx2.1-t2i-turbo' });
  });
});
