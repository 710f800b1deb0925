// The settings every process reads: each known key within its bounds is taken, anything else is left out so the
// process's environment value applies.
import { describe, expect, it } from 'vitest';
import { parseSettings, SETTINGS } from '../index.ts';

describe('parseSettings', () => {
  it('takes the caps and the rate-limit override within their bounds', () => {
    expect(
      parseSettings({ values: { signupGrantCredits: 7, orderTtlSeconds: 120, maxConcurrentGenerationsPerUser: 1, maxActiveImageJobsPerUser: 2, rateLimitPerUserPerMinute: 30 } }),
    ).toEqual({ signupGrantCredits: 7, orderTtlSeconds: 120, maxConcurrentGenerationsPerUser: 1, maxActiveImageJobsPerUser: 2, rateLimitPerUserPerMinute: 30 });
  });

  it('leaves out unknown keys, values out of bounds and values that are not whole numbers', () => {
    expect(
      parseSettings({ values: { noSuchSetting: 3, maxConcurrentGenerationsPerUser: 0, maxActiveImageJobsPerUser: 1.5, rateLimitPerUserPerMinute: 9, orderTtlSeconds: '120' } }),
    ).toEqual({});
    expect(parseSettings({ values: { rateLimitPerUserPerMinute: SETTINGS.rateLimitPerUserPerMinute.max } })).toEqual({ rateLimitPerUserPerMinute: 1_000_000 });
  });

  it('refuses a shape it does not know (the state held is then kept)', () => {
    expect(() => parseSettings({ signupGrantCredits: 7 })).toThrow();
  });
});
