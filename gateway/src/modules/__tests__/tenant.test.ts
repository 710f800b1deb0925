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

describe('tenants MySQL does not know', () => {
  const message = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;
  const directory = parseTenantDirectory(
    tenantDirectoryData([
      { id: 'default', status: 'ACTIVE', hosts: [] },
      { id: 'acme', status: 'ACTIVE', hosts: [] },
    ]),
  );

  it('refuses a tenant the directory does not hold with BAD_USER_INPUT (reason tenant_unknown), by header or by TENANT_HOSTS', () => {
    const tenantOf = createTenantResolver({ TENANT_HEADER: 'x-tenant-id', TENANT_HOSTS: 'old.ghost.cn=ghost' }, () => directory);
    const unknown = expect.objectContaining({ code: 'BAD_USER_INPUT', extensions: expect.objectContaining({ reason: 'tenant_unknown' }) });
    expect(() => tenantOf(message({ host: 'localhost', 'x-tenant-id': 'ghost' }))).toThrow(unknown);
    expect(() => tenantOf(message({ host: 'old.ghost.cn' }))).toThrow(unknown);
    expect(tenantOf(message({ host: 'localhost', 'x-tenant-id': 'acme' }))).toBe('acme');
  });

  it('always lets `default` in, and refuses nothing as unknown before the tenants are loaded', () => {
    const empty = parseTenantDirectory(tenantDirectoryData([]));
    expect(createTenantResolver({ TENANT_HEADER: 'x-tenant-id', TENANT_HOSTS: '' }, () => empty)(message({ host: 'localhost' }))).toBe('default');
    const beforeLoad = createTenantResolver({ TENANT_HEADER: 'x-tenant-id', TENANT_HOSTS: '' });
    expect(beforeLoad(message({ host: 'localhost', 'x-tenant-id': 'ghost' }))).toBe('ghost');
  });
});
