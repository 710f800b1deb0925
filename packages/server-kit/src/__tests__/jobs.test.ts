import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '@firefly/logger';
import { startJob, startJobs, type JobDefinition } from '../jobs.ts';

function capturingLogger() {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'jobs-test',
    level: 'error',
    destination: new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    }),
  });
  return { logger, lines };
}

const every = (everyMs: number, handler: JobDefinition['handler']): JobDefinition => ({ name: 'flaky-job', trigger: { kind: 'interval', everyMs }, handler });

describe('background jobs', () => {
  beforeEach(() => void vi.useFakeTimers());
  afterEach(() => void vi.useRealTimers());

  it('run every interval, turn a failure into a log line naming the job, and stop triggering on stop()', async () => {
    const { logger, lines } = capturingLogger();
    let runs = 0;
    const job = startJob(
      every(10, async () => {
        runs++;
        if (runs % 2 === 1) throw new Error('database went away');
      }),
      logger,
    );
    await vi.advanceTimersByTimeAsync(35);
    expect(runs).toBe(3);
    await job.stop();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(3);
    const failures = lines.filter((line) => line.includes('flaky-job failed'));
    expect(failures).toHaveLength(2);
    expect(failures[0]).toContain('database went away');
    expect(JSON.parse(failures[0]!)).toMatchObject({ job: 'flaky-job' });
  });

  it('never overlap: the next run is scheduled after the previous one ended, and stop() waits for a run in progress', async () => {
    const { logger } = capturingLogger();
    let active = 0;
    let maxActive = 0;
    let finished = 0;
    const jobs = startJobs(
      [
        every(10, async () => {
          active++;
          maxActive = Math.max(maxActive, active);
          await new Promise((resolve) => setTimeout(resolve, 25));
          active--;
          finished++;
        }),
      ],
      logger,
    );
    await vi.advanceTimersByTimeAsync(80);
    expect(maxActive).toBe(1);
    expect(finished).toBe(2);
    const stopped = jobs.stop();
    await vi.advanceTimersByTimeAsync(30);
    await stopped;
    expect(active).toBe(0);
    expect(finished).toBe(3);
  });
});
