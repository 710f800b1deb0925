import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '@firefly/logger';
import type { GatewayContext } from '../context.ts';
import { CredentialedDataSource, type SubgraphResilience } from '../data-source.ts';

// A real HTTP server playing the subgraph; each test says how it answers the next requests.
type Behaviour = (req: IncomingMessage, res: ServerResponse, body: string) => void;
let server: Server;
let url: string;
let behaviour: Behaviour;
const received: Array<{ body: string; headers: IncomingMessage['headers'] }> = [];
const open: DataSourceUnderTest[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      received.push({ body, headers: req.headers });
      behaviour(req, res, body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterEach(async () => {
  received.length = 0;
  await Promise.all(open.splice(0).map((source) => source.close()));
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const answer = (data: unknown): Behaviour => (_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ data }));
};
/** Closes the connection without answering (what a subgraph that crashed mid-request looks like). */
const hangUp: Behaviour = (req) => req.socket.destroy();

type DataSourceUnderTest = CredentialedDataSource;
const RESILIENCE: SubgraphResilience = { timeoutMs: 2_000, requestTimeoutMs: 5_000, maxResponseBytes: 10_000, breakerFailures: 3, breakerHalfOpenMs: 300 };

function dataSource(overrides: Partial<SubgraphResilience> = {}): CredentialedDataSource {
  const source = new CredentialedDataSource({ name: 'billing', url, resilience: { ...RESILIENCE, ...overrides } });
  open.push(source);
  return source;
}

function call(source: CredentialedDataSource, query: string, startedAt = performance.now(), overallCachePolicy?: unknown) {
  const context = {
    identity: { kind: 'anonymous', tenantId: 'default', requestId: 'req-1' },
    requestId: 'req-1',
    logger: createLogger({ service: 'test', level: 'silent' }),
    credential: async () => 'signed-credential',
    operation: { transport: 'http', requestId: 'req-1', startedAt, operationType: query.startsWith('mutation') ? 'mutation' : 'query', errorCodes: [] },
  } satisfies GatewayContext;
  const options = {
    kind: 'incoming operation',
    request: { query },
    context,
    incomingRequestContext: { context, overallCachePolicy },
  } as unknown as GraphQLDataSourceProcessOptions<GatewayContext>;
  return source.process(options);
}

const failureOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e as { message: string; extensions: Record<string, unknown> },
  );
  if (!error) throw new Error('expected the call to fail');
  return { message: error.message, extensions: error.extensions };
};

describe('CredentialedDataSource', () => {
  it('sends the credential and request id, and never the internal deadline header', async () => {
    behaviour = answer({ products: [] });
    await expect(call(dataSource(), '{products{id}}')).resolves.toMatchObject({ data: { products: [] } });
    expect(received[0]!.headers).toMatchObject({ 'x-request-id': 'req-1', 'x-firefly-credential': 'signed-credential', 'content-type': 'application/json' });
    expect(Object.keys(received[0]!.headers).filter((name) => name.includes('deadline'))).toEqual([]);
    expect(JSON.parse(received[0]!.body)).toEqual({ query: '{products{id}}' });
  });

  it("folds the subgraph's cache-control into the operation's cache policy, and hands over the answer's headers", async () => {
    behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=30, public' });
      res.end(JSON.stringify({ data: { products: [] } }));
    };
    const hints: unknown[] = [];
    const response = await call(dataSource(), '{products{id}}', performance.now(), { restrict: (hint: unknown) => hints.push(hint) });
    expect(hints).toEqual([{ maxAge: 30, scope: 'PUBLIC' }]);
    expect(response.http?.headers.get('Cache-Control')).toBe('max-age=30, public');
  });

  it('reports a subgraph that refuses the credential (401) as unavailable, not as the client being signed out', async () => {
    behaviour = (_req, res) => {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ message: 'bad credential' }] }));
    };
    expect((await failureOf(call(dataSource(), '{products{id}}'))).extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', service: 'billing', reason: 'bad_status' });
  });

  it('tries a query once more when the connection dies before an answer', async () => {
    let calls = 0;
    behaviour = (req, res, body) => (++calls === 1 ? hangUp(req, res, body) : answer({ products: [{ id: 'p1' }] })(req, res, body));
    await expect(call(dataSource(), 'query Products__billing__0{products{id}}')).resolves.toMatchObject({ data: { products: [{ id: 'p1' }] } });
    expect(received).toHaveLength(2);
  });

  it('never tries a mutation again: it fails with UPSTREAM_UNAVAILABLE after one attempt', async () => {
    behaviour = hangUp;
    const failure = await failureOf(call(dataSource(), 'mutation{cancelOrder(id:"o1"){id}}'));
    expect(failure.extensions).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE', service: 'billing', reason: 'unreachable' });
    expect(received).toHaveLength(1);
  });

  it('abandons an answer larger than the cap', async () => {
    behaviour = answer({ products: [{ id: 'x'.repeat(20_000) }] });
    const failure = await failureOf(call(dataSource(), '{products{id}}'));
    expect(failure).toMatchObject({ message: "The billing service's answer is too large", extensions: { code: 'UPSTREAM_UNAVAILABLE', reason: 'response_too_large' } });
    // Without a Content-Length the cap holds while reading, too.
    behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.write('{"data":{"products":[');
      const chunk = `{"id":"${'y'.repeat(1_000)}"},`;
      for (let i = 0; i < 50; i++) res.write(chunk);
      res.end('{"id":"z"}]}}');
    };
    expect((await failureOf(call(dataSource(), '{products{id}}'))).extensions).toMatchObject({ reason: 'response_too_large' });
  });

  it('holds a deadline over the whole fetch, a slowly trickling answer included', async () => {
    // Headers at once, then a byte every 100 ms: no idle gap is long, but the answer never completes in time.
    behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"data":{"products":[');
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    };
    const failure = await failureOf(call(dataSource({ timeoutMs: 600 }), '{products{id}}'));
    expect(failure).toMatchObject({ message: 'The billing service did not answer in time', extensions: { code: 'UPSTREAM_UNAVAILABLE', reason: 'timeout' } });
    // The same with a declared length (the way Apollo Server answers).
    behaviour = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"data":{"products":[');
      const timer = setInterval(() => res.write(' '), 100);
      res.on('close', () => clearInterval(timer));
    };
    expect((await failureOf(call(dataSource({ timeoutMs: 600 }), '{products{id}}'))).extensions).toMatchObject({ reason: 'timeout' });
  });

  it("stops at the operation's deadline when that comes before the fetch's own", async () => {
    behaviour = () => undefined; // never answers
    const source = dataSource({ timeoutMs: 60_000, requestTimeoutMs: 1_000 });
    // The operation arrived 900 ms ago: 100 ms are left of its 1 s.
    const failure = await failureOf(call(source, '{products{id}}', performance.now() - 900));
    expect(failure.extensions).toMatchObject({ reason: 'timeout' });
    // An operation whose time is already up does not reach the subgraph at all.
    const before = received.length;
    expect((await failureOf(call(source, '{products{id}}', performance.now() - 2_000))).extensions).toMatchObject({ reason: 'timeout' });
    expect(received).toHaveLength(before);
  });

  it('opens the breaker after repeated failures, fails fast without calling, and closes it again after a good probe', async () => {
    const source = dataSource();
    behaviour = (_req, res) => {
      res.writeHead(503);
      res.end('overloaded');
    };
    for (let i = 0; i < 3; i++) expect((await failureOf(call(source, '{products{id}}'))).extensions).toMatchObject({ reason: 'bad_status' });
    expect(received).toHaveLength(3);

    // Open: the subgraph is not called at all.
    const open = await failureOf(call(source, '{products{id}}'));
    expect(open).toMatchObject({ message: 'The billing service is unavailable', extensions: { code: 'UPSTREAM_UNAVAILABLE', service: 'billing', reason: 'circuit_open' } });
    expect(received).toHaveLength(3);

    // After the half-open delay one probe goes through; it succeeds, so the breaker closes.
    behaviour = answer({ products: [] });
    await new Promise((resolve) => setTimeout(resolve, 350));
    await expect(call(source, '{products{id}}')).resolves.toMatchObject({ data: { products: [] } });
    await expect(call(source, '{products{id}}')).resolves.toMatchObject({ data: { products: [] } });
    expect(received).toHaveLength(5);
  });

  it('does not count answers that are the query’s fault (too large) against the breaker', async () => {
    const source = dataSource();
    behaviour = answer({ products: [{ id: 'x'.repeat(20_000) }] });
    for (let i = 0; i < 4; i++) expect((await failureOf(call(source, '{products{id}}'))).extensions).toMatchObject({ reason: 'response_too_large' });
    expect(received).toHaveLength(4);
  });
});
