// Guessing API keys stops at the gateway: refused keys count per client IP (in Redis, across replicas), and past the
// limit every key request from that address is RATE_LIMITED — a good key included — while other addresses go on;
// a key that cannot be checked is refused, never let through.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type GraphQLResponse, type Supergraph } from '../../src/harness.ts';
import { readMetric } from '../../src/subscription-processes.ts';
import { createAdmin, createKey, createPartner, publishList } from '../../src/partner-helpers.ts';

let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph({ env: { PARTNER_KEY_FAILURES_PER_IP: '3/600' } });
});
afterAll(async () => {
  await sg?.stop();
});

async function withKey(key: string, ip: string): Promise<GraphQLResponse & { retryAfter: string | null }> {
  const response = await fetch(sg.gatewayUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'x-forwarded-for': ip },
    body: JSON.stringify({ query: '{ me { id } }' }),
  });
  return { status: response.status, retryAfter: response.headers.get('retry-after'), body: (await response.json()) as GraphQLResponse['body'] };
}

const guess = () => `ffk_${randomBytes(36).toString('base64url')}`;
const codeOf = (response: GraphQLResponse) => response.body.errors?.[0]?.extensions?.code;

describe('API key guessing', () => {
  it('is cut off per client IP after the limit of refused keys; good keys from other addresses still work', async () => {
    const admin = await createAdmin(sg);
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    await publishList(admin, partner.id, ['{ me { id } }']);
    const attacker = '198.51.100.7';
    for (let i = 0; i < 3; i++) expect(codeOf(await withKey(guess(), attacker))).toBe('UNAUTHENTICATED');
    for (const presented of [guess(), key]) {
      const limited = await withKey(presented, attacker);
      expect(codeOf(limited)).toBe('RATE_LIMITED');
      expect(limited.status).toBe(429);
      expect(Number(limited.retryAfter)).toBeGreaterThan(0);
      expect(limited.body.data).toBeUndefined();
    }
    expect((await withKey(key, '198.51.100.8')).body.data).toEqual({ me: { id: partner.accountId } });
    const origin = new URL(sg.gatewayUrl).origin;
    expect(await readMetric(origin, 'gateway_partner_key_refusals_total', { reason: 'unknown' })).toBe(3);
    expect(await readMetric(origin, 'gateway_partner_key_refusals_total', { reason: 'address_blocked' })).toBe(2);
  });

  it('good keys never count against their address', async () => {
    const admin = await createAdmin(sg);
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    await publishList(admin, partner.id, ['{ me { id } }']);
    for (let i = 0; i < 6; i++) expect((await withKey(key, '198.51.100.9')).body.data).toEqual({ me: { id: partner.accountId } });
  });

  // Last in the file: it stops the user subgraph.
  it('a key the gateway cannot check (user service down) is refused with UPSTREAM_UNAVAILABLE (503), never let through, and counts against nobody', async () => {
    const admin = await createAdmin(sg);
    const partner = await createPartner(admin);
    const { key } = await createKey(admin, partner.id);
    await sg.servers.user.stop();
    const ip = '198.51.100.20';
    for (let i = 0; i < 4; i++) {
      const response = await withKey(key, ip);
      expect(codeOf(response)).toBe('UPSTREAM_UNAVAILABLE');
      expect(response.status).toBe(503);
      expect(response.body.data).toBeUndefined();
    }
  });
});
