import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { parseTenantDirectory, tenantDirectoryData } from '@firefly/platform-state';
import { parseTenantHosts } from '../../config.ts';
import { createTenantResolver, resolveTenant } from '../tenant.ts';

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

describe('resolveTenant with the tenants from MySQL', () => {
  const hosts = parseTenantHosts('ai.acme.com=acme, old.beta.cn=beta');
  const directory = parseTenantDirectory(
    tenantDirectoryData([
      { id: 'acme-2', status: 'ACTIVE', hosts: ['ai.acme.com'] },
      { id: 'gamma', status: 'SUSPENDED', hosts: ['gamma.example.com'] },
    ]),
  );

  it('maps a host MySQL knows first, then TENANT_HOSTS for hosts it does not', () => {
    expect(resolveTenant({ host: 'AI.acme.com.', header: undefined }, hosts, directory)).toBe('acme-2');
    expect(resolveTenant({ host: 'old.beta.cn', header: undefined }, hosts, directory)).toBe('beta');
    expect(resolveTenant({ host: 'gamma.example.com:8443', header: 'acme' }, hosts, directory)).toBe('gamma');
  });

  it('refuses a suspended tenant with FORBIDDEN, by host or by header', () => {
    const tenantOf = createTenantResolver({ TENANT_HEADER: 'x-tenant-id', TENANT_HOSTS: '' }, () => directory);
    const message = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
    expect(() => tenantOf(message({ host: 'gamma.example.com' }))).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(() => tenantOf(message({ host: 'localhost', 'x-tenant-id': 'gamma' }))).toThrow(expect.objectContaining({ code: 'FORBIDDEN' }));
    expect(tenantOf(message({ host: 'ai.acme.com' }))).toBe('acme-2');
  });
});
