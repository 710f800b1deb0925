import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@firefly/logger';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { clientOf, registerWithEmail } from '../../src/identity-helpers.ts';

let sg: Supergraph;
const lines: string[] = [];

beforeAll(async () => {
  const logger = createLogger({ service: 'e2e', level: 'info', destination: { write: (line: string) => void lines.push(line) } });
  sg = await startSupergraph({ logger });
});
afterAll(async () => {
  await sg?.stop();
});

/** The access-log lines written for one request id (the id the client sent in `x-request-id`). */
async function accessLinesOf(requestId: string): Promise<Array<Record<string, any>>> {
  // The line is written once the answer has been sent: wait for it rather than for a fixed time.
  for (let attempt = 0; attempt < 100; attempt++) {
    const found = lines.map((line) => JSON.parse(line) as Record<string, any>).filter((entry) => entry.component === 'access-log' && entry.requestId === requestId);
    if (found.length > 0) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return [];
}

describe('the gateway access log', () => {
  it('writes one line per operation naming the operation, client, caller, outcome and request id — never the document, variables or token', async () => {
    const client = clientOf(sg);
    const account = await registerWithEmail(client);
    const requestId = `access-${randomUUID()}`;
    const secret = `needle_${randomUUID().replaceAll('-', '')}`;
    const response = await client.call(`query WhoAmI { me { id displayName } ${secret}: me { id } }`, undefined, account.accessToken, {
      'x-request-id': requestId,
      'apollographql-client-name': 'firefly-web',
      'apollographql-client-version': '1.2.3',
    });
    expect(response.body.data?.me?.id).toBe(account.user.id);

    const [entry, ...more] = await accessLinesOf(requestId);
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      msg: 'operation',
      transport: 'http',
      operationName: 'WhoAmI',
      operationType: 'query',
      clientName: 'firefly-web',
      clientVersion: '1.2.3',
      clientIp: client.ip,
      tenantId: 'default',
      userId: account.user.id,
      status: 200,
      errorCodes: [],
    });
    expect(typeof entry!.durationMs).toBe('number');
    const raw = lines.find((line) => line.includes(requestId) && line.includes('"access-log"'))!;
    expect(raw).not.toContain(secret);
    expect(raw).not.toContain(account.accessToken);
    expect(raw).not.toContain('displayName');
  });

  it('records the error codes and status of a refused operation by an anonymous caller', async () => {
    const client = clientOf(sg);
    const requestId = `access-${randomUUID()}`;
    const response = await client.call('query Mine { me { id } myConversations: conversations(first: 1) { edges { node { id } } } }', undefined, undefined, { 'x-request-id': requestId });
    const codes = (response.body.errors ?? []).map((error) => error.extensions?.code);
    expect(codes.length).toBeGreaterThan(0);

    const [entry] = await accessLinesOf(requestId);
    expect(entry).toMatchObject({ operationName: 'Mine', userId: null, status: response.status });
    expect(entry!.errorCodes).toEqual(codes);
  });
});
