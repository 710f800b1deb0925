import { describe, expect, it } from 'vitest';
import type { Identity } from '@firefly/auth';
import { createRefreshingCredential } from '../credential.ts';

const identity: Identity = { kind: 'user', tenantId: 'default', requestId: 'r', userId: 'u', roles: ['USER'], sessionId: 's' };

describe('createRefreshingCredential', () => {
  it('reuses a credential, then signs a fresh one once it is older than the reuse window (credentials live 60 s)', async () => {
    let now = 0;
    let signed = 0;
    const credential = createRefreshingCredential(async () => `credential-${++signed}`, identity, 30_000, () => now);
    expect(await credential()).toBe('credential-1');
    now = 29_999;
    expect(await credential()).toBe('credential-1');
    now = 30_000;
    expect(await credential()).toBe('credential-2');
    now = 10 * 60_000;
    expect(await credential()).toBe('credential-3');
  });

  it('does not keep a failed signature', async () => {
    let attempts = 0;
    const credential = createRefreshingCredential(
      async () => {
        attempts++;
        if (attempts === 1) throw new Error('no key');
        return 'ok';
      },
      identity,
      30_000,
      () => 0,
    );
    await expect(credential()).rejects.toThrow('no key');
    expect(await credential()).toBe('ok');
  });
});
