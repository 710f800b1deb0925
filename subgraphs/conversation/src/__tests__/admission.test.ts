import { isAppError } from '@firefly/errors';
import { afterEach, describe, expect, it } from 'vitest';
import { createStartAdmission, type StartAdmission } from '../generation/admission.ts';

let admission: StartAdmission | undefined;
afterEach(() => admission?.close());

function refusalOf(run: () => void): { code: unknown; retryAfterSeconds: unknown } | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    if (!isAppError(error)) throw error;
    return { code: error.extensions.code, retryAfterSeconds: error.extensions.retryAfterSeconds };
  }
}

describe('start admission', () => {
  it('refuses a start at capacity with RATE_LIMITED and a retry time, and admits again below it', () => {
    let active = 2;
    admission = createStartAdmission({ capacity: 3, maxLoopDelayMs: 0, active: () => active });
    expect(refusalOf(() => admission!.admit())).toBeUndefined();
    active = 3;
    expect(refusalOf(() => admission!.admit())).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 5 });
    expect(refusalOf(() => admission!.admit())).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 5 });
    expect(admission.refusals()).toEqual({ capacity: 2, loop_delay: 0 });
    active = 2;
    expect(refusalOf(() => admission!.admit())).toBeUndefined();
  });

  it('has no cap with capacity 0', () => {
    admission = createStartAdmission({ capacity: 0, maxLoopDelayMs: 0, active: () => 1_000_000 });
    expect(refusalOf(() => admission!.admit())).toBeUndefined();
  });

  it('refuses starts once the event loop was late by more than the bound', async () => {
    admission = createStartAdmission({ capacity: 0, maxLoopDelayMs: 50, active: () => 0 });
    // Hold the loop for 300 ms at a time (at least that late, whatever else runs on the machine) until the
    // once-a-second measurement has seen it.
    const until = Date.now() + 5_000;
    while (Date.now() < until && admission.loopDelayMs() <= 50) {
      const busy = Date.now() + 300;
      while (Date.now() < busy);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(admission.loopDelayMs()).toBeGreaterThan(50);
    expect(refusalOf(() => admission!.admit())).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 5 });
    expect(admission.refusals().loop_delay).toBe(1);
  });

  it('does not measure the loop when no bound is set', async () => {
    admission = createStartAdmission({ capacity: 0, maxLoopDelayMs: 0, active: () => 0 });
    const busy = Date.now() + 300;
    while (Date.now() < busy);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect(admission.loopDelayMs()).toBe(0);
    expect(refusalOf(() => admission!.admit())).toBeUndefined();
  });
});
