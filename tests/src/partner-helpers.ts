// Shared pieces of the partner scenarios (tests/e2e/partners/): an ADMIN of a tenant, and the admin operations that
// create partners and keys through the gateway.
import { expect } from 'vitest';
import { operationId } from '@firefly/persisted-queries';
import { seedUserWithHistory } from './fixtures.ts';
import type { GraphQLResponse, Supergraph } from './harness.ts';

export const CREATE_PARTNER = `mutation CreatePartner($name: String!) { createPartner(input: { name: $name }) { id name status createdAt account { id displayName } apiKeys { id } persistedQueryList { version } } }`;
export const CREATE_KEY = `mutation CreateKey($partnerId: ID!, $requireSignature: Boolean, $rate: Int) {
  createPartnerApiKey(partnerId: $partnerId, requireSignature: $requireSignature, rateLimitPerMinute: $rate) {
    key secret apiKey { id prefix requireSignature rateLimitPerMinute createdAt lastUsedAt revokedAt }
  }
}`;
export const REVOKE_KEY = `mutation RevokeKey($id: ID!) { revokePartnerApiKey(id: $id) { id revokedAt } }`;
export const SET_PARTNER_STATUS = `mutation SetPartnerStatus($id: ID!, $status: PartnerStatus!) { setPartnerStatus(partnerId: $id, status: $status) { id status } }`;

export function ok(response: GraphQLResponse): Record<string, any> {
  expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
  return response.body.data!;
}

export interface Admin {
  id: string;
  token: string;
  call(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse>;
}

/** A user of the tenant holding ADMIN, with a live session (roles come from the session record). */
export async function createAdmin(sg: Supergraph, tenantId = 'default'): Promise<Admin> {
  const { user } = await seedUserWithHistory(sg.db, { tenantId, conversations: 0, imageJobs: 0, credits: 0 });
  await sg.db.user.update({ where: { id: user.id }, data: { roles: 'USER,ADMIN' } });
  const token = await sg.tokenFor({ id: user.id, tenantId, roles: ['USER', 'ADMIN'] });
  const headers: Record<string, string> = tenantId === 'default' ? {} : { 'x-tenant-id': tenantId };
  return { id: user.id, token, call: (query, variables) => sg.request(query, { token, headers, ...(variables ? { variables } : {}) }) };
}

export interface CreatedPartner {
  id: string;
  accountId: string;
}

export async function createPartner(admin: Admin, name = `Partner ${Math.random().toString(36).slice(2, 8)}`): Promise<CreatedPartner> {
  const partner = ok(await admin.call(CREATE_PARTNER, { name })).createPartner;
  return { id: partner.id, accountId: partner.account.id };
}

export interface CreatedKey {
  id: string;
  key: string;
  secret: string | null;
  prefix: string;
}

export async function createKey(admin: Admin, partnerId: string, options: { requireSignature?: boolean; rateLimitPerMinute?: number } = {}): Promise<CreatedKey> {
  const created = ok(await admin.call(CREATE_KEY, { partnerId, requireSignature: options.requireSignature ?? null, rate: options.rateLimitPerMinute ?? null })).createPartnerApiKey;
  return { id: created.apiKey.id, key: created.key, secret: created.secret, prefix: created.apiKey.prefix };
}

const PUBLISH_LIST = `mutation Publish($partnerId: ID!, $manifest: JSON!) { publishPersistedQueries(partnerId: $partnerId, manifest: $manifest) { version } }`;

/**
 * Publishes `documents` as the partner's persisted query list (a partner's key runs nothing else); each document is one
 * query or mutation, named or anonymous. Any replica serves it from the moment this returns.
 */
export async function publishList(admin: Admin, partnerId: string, documents: readonly string[]): Promise<number> {
  const operations = documents.map((body, index) => ({
    id: operationId(body),
    name: /^\s*(?:query|mutation)\s+(\w+)/.exec(body)?.[1] ?? `Operation${index + 1}`,
    type: body.trimStart().startsWith('mutation') ? 'mutation' : 'query',
    body,
  }));
  return ok(await admin.call(PUBLISH_LIST, { partnerId, manifest: { format: 'apollo-persisted-query-manifest', version: 1, operations } })).publishPersistedQueries.version;
}
