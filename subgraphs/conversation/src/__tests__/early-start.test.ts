import { describe, expect, it } from 'vitest';
import { createEarlyStartPolicy } from '../generation/early-start.ts';

describe('which answers start upstream before their hold', () => {
  it('only those of a user whose last hold in this process succeeded, within the window', () => {
    let now = 1_000;
    const policy = createEarlyStartPolicy({ enabled: true, windowMs: 60_000, now: () => now });
    expect(policy.allows('t', 'u')).toBe(false);
    policy.held('t', 'u');
    expect(policy.allows('t', 'u')).toBe(true);
    expect(policy.allows('t', 'other')).toBe(false);
    expect(policy.allows('other', 'u')).toBe(false);
    now += 60_001;
    expect(policy.allows('t', 'u')).toBe(false);
  });

  it('not after a failed hold, until the next hold succeeds', () => {
    const policy = createEarlyStartPolicy({ enabled: true });
    policy.held('t', 'u');
    policy.failed('t', 'u');
    expect(policy.allows('t', 'u')).toBe(false);
    policy.held('t', 'u');
    expect(policy.allows('t', 'u')).toBe(true);
  });

  it('never when switched off', () => {
    const policy = createEarlyStartPolicy({ enabled: false });
    policy.held('t', 'u');
    expect(policy.allows('t', 'u')).toBe(false);
  });

  it('remembers at most maxEntries users, forgetting the least recently held first', () => {
    const policy = createEarlyStartPolicy({ enabled: true, maxEntries: 2 });
    policy.held('t', 'a');
    policy.held('t', 'b');
    policy.held('t', 'a');
    policy.held('t', 'c');
    expect(['a', 'b', 'c'].map((user) => policy.allows('t', user))).toEqual([true, false, true]);
  });
});
