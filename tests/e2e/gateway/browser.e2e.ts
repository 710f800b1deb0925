// Browser and deployment hygiene at the gateway: the CORS allow-list, security headers on every answer, HSTS and no
// development origins in production, introspection off in production, /readyz and /metrics on the ops port only.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSigningKey, publicJwks } from '@firefly/auth';
import { createLogger } from '@firefly/logger';
import { createGatewayServer, loadGatewayConfig, type GatewayServer } from '@firefly/gateway';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';

const APP = 'https://app.example.com';
let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph({ env: { CORS_ORIGINS: `${APP},http://localhost:5173` } });
});
afterAll(async () => {
  await sg?.stop();
});

const preflight = (url: string, origin: string) =>
  fetch(url, { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,authorization' } });
const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ query: '{ chatModels { id } }' }) });

describe('CORS allow-list (CORS_ORIGINS)', () => {
  it('answers a preflight from a listed origin naming it, with the methods and headers asked for', async () => {
    const response = await preflight(sg.gatewayUrl, APP);
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(APP);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect(response.headers.get('vary')).toMatch(/origin/i);
  });

  it('gives any other origin no access-control-allow-origin, on the preflight and on the request', async () => {
    for (const origin of ['https://evil.example.com', 'http://localhost:3000', 'null']) {
      const refused = await preflight(sg.gatewayUrl, origin);
      expect(refused.headers.get('access-control-allow-origin'), origin).toBeNull();
      expect(refused.status, origin).toBeLessThan(500);
      const answered = await post(sg.gatewayUrl, { origin });
      expect(answered.headers.get('access-control-allow-origin'), origin).toBeNull();
    }
  });

  it('lets a listed origin read the answer and the request id', async () => {
    const response = await post(sg.gatewayUrl, { origin: 'http://localhost:5173' });
    expect(response.status).toBe(200);
    expect(response.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(response.headers.get('access-control-expose-headers')).toContain('x-request-id');
    expect(response.headers.get('x-request-id')).toBeTruthy();
  });
});

describe('security headers', () => {
  it('every answer carries nosniff, frame-ancestors none and X-Frame-Options DENY; no HSTS outside production', async () => {
    const origin = new URL(sg.gatewayUrl).origin;
    for (const response of [await post(sg.gatewayUrl), await fetch(`${origin}/healthz`), await fetch(`${origin}/no-such-route`)]) {
      expect(response.headers.get('x-content-type-options')).toBe('nosniff');
      expect(response.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('strict-transport-security')).toBeNull();
      expect(response.headers.get('x-powered-by')).toBeNull();
    }
  });
});

describe('a production gateway', () => {
  let gateway: GatewayServer;
  let url: string;

  beforeAll(async () => {
    const key = await generateSigningKey('browser-test');
    const config = loadGatewayConfig({
      NODE_ENV: 'production',
      INTERNAL_TOKEN_SECRET: randomBytes(32).toString('hex'),
      ACCESS_TOKEN_PUBLIC_KEYS: JSON.stringify(publicJwks([key]).keys),
      REDIS_URL: process.env.REDIS_URL,
      REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX,
      OPS_PORT: '0',
      USER_SUBGRAPH_URL: sg.subgraphUrls.user,
      CONVERSATION_SUBGRAPH_URL: sg.subgraphUrls.conversation,
      IMAGE_SUBGRAPH_URL: sg.subgraphUrls.image,
      BILLING_SUBGRAPH_URL: sg.subgraphUrls.billing,
    });
    gateway = await createGatewayServer({ config, logger: createLogger({ service: 'browser-test', level: 'silent' }), sessionRevocations: false });
    url = await gateway.listen(0);
  });
  afterAll(async () => {
    await gateway?.stop();
  });

  it('sends HSTS, and trusts no development origin unless CORS_ORIGINS lists it', async () => {
    const response = await preflight(url, 'http://localhost:5173');
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    expect(response.headers.get('strict-transport-security')).toMatch(/max-age=\d+/);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
  });

  it('refuses introspection', async () => {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: '{ __schema { queryType { name } } }' }) });
    const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
    expect(body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('serves /readyz and /metrics on the ops port only; /healthz on both', async () => {
    const publicOrigin = new URL(url).origin;
    const ops = gateway.opsOrigin()!;
    expect(ops).toBeTruthy();
    expect((await fetch(`${publicOrigin}/metrics`)).status).toBe(404);
    expect((await fetch(`${publicOrigin}/readyz`)).status).toBe(404);
    expect((await fetch(`${publicOrigin}/healthz`)).status).toBe(200);
    const metrics = await fetch(`${ops}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('service="gateway"');
    expect([200, 503]).toContain((await fetch(`${ops}/readyz`)).status);
    expect((await fetch(`${ops}/healthz`)).status).toBe(200);
  });
});
