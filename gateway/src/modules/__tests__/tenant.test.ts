import { describe, expect, it } from 'vitest';
import { parseTenantHosts } from '../../config.ts';
import { resolveTenant } from '../tenant.ts';

describe('resolveTenant', () => {
  const hosts = parseTenantHosts('ai.acme.com=acme, chat.beta.cn = beta');

  it('maps a known host first, ignoring the header (a tenant domain cannot be overridden)', () => {
    expect(resolveTenant({ host: 'ai.acme.com:443', header: 'beta' }, hosts)).toBe('acme');
  });
  it('falls back to the header, then to default', () => {
    expect(resolveTenant({ host: 'localhost:4000', header: 'Beta' }, hosts)).toBe('beta');
    expect(resolveTenant({ host: 'localhost:4000', header: undefined }, hosts)).toBe('default');
  });
  it('refuses a malformed tenant header with BAD_USER_INPUT', () => {
    expect(() => resolveTenant({ host: undefined, header: "x' OR 1=1" }, hosts)).toThrow(expect.objectContaining({ code: 'BAD_USER_INPUT' }));
  });
});
