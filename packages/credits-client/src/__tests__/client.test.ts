import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { createCredentialVerifier, type Identity } from '@firefly/auth';
import { AppError } from '@firefly/errors';
import { BillingCallError, createCreditsClient } from '../client.ts';

// A stand-in for the billing subgraph's HTTP endpoint: it verifies the credential like a subgraph does and answers
// with whatever the test scripts, so retries, timeouts and error mapping can be driven precisely.
type Handler = (call: { attempt: number; body: { operationName: string; variables: Record<string, unknown> }; identity: Identity | null }, res: ServerResponse) => void;

const secret = randomBytes(32).toString('hex');
const verify = createCredentialVerifier({ secret });
let server: Server | undefined;

async function startDouble(handler: Handler) {
  const calls: Array<{ identity: Identity | null; operationName: string; variables: Record<string, unknown> }> = [];
  server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    const identity = await verify(req.headers['x-firefly-credential'] as string).catch(() => null);
    calls.push({ identity, operationName: body.operationName, variables: body.variables });
    handler({ attempt: calls.length, body, identity }, res);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
  return { url, calls };
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

const json = (res: ServerResponse, status: number, body: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
};
const reservation = { id: 'rsv_1', userId: 'u1', amount: 10, settledAmount: null, status: 'HELD', referenceId: 'm1', expiresAt: '2026-01-01T00:00:00.000Z', createdAt: '2026-01-01T00:00:00.000Z' };
const reserveInput = { tenantId: 'tenant-a', userId: 'u1', amount: 10, referenceId: 'm1', ttlSeconds: 60, idempotencyKey: 'message:m1' };

describe('createCreditsClient', () => {
  it("sends a fresh service credential for the call's tenant, issued by the calling service, and the input as variables", async () => {
    const { url, calls } = await startDouble((_, res) => json(res, 200, { data: { reserveCredits: reservation } }));
    const client = createCreditsClient({ url, secret, service: 'conversation' });
    expect(await client.reserve({ ...reserveInput, requestId: 'req-1' })).toEqual(reservation);
    expect(calls[0]!.identity).toEqual({ kind: 'service', tenantId: 'tenant-a', service: 'conversation', requestId: 'req-1' });
    expect(calls[0]!.operationName).toBe('ReserveCredits');
    expect(calls[0]!.variables).toEqual({ input: { userId: 'u1', amount: 10, referenceId: 'm1', ttlSeconds: 60, idempotencyKey: 'message:m1' } });
  });

  it("carries the request's partner inside the signed credential, never in the variables", async () => {
    const { url, calls } = await startDouble((call, res) => json(res, 200, { data: { [call.body.operationName === 'ReserveCredits' ? 'reserveCredits' : 'reserveChatCredits']: reservation } }));
    const client = createCreditsClient({ url, secret, service: 'image' });
    const partner = { partnerId: 'p1', apiKeyId: 'k1' };
    await client.reserve({ ...reserveInput, requestId: 'req-2', partner });
    await client.reserveChat({ tenantId: 'tenant-a', requestId: 'req-3', partner, userId: 'u1', modelId: 'qwen-turbo', inputTokens: 10, outputTokens: 20, referenceId: 'm1', ttlSeconds: 60, idempotencyKey: 'message:m1' });
    for (const call of calls) {
      expect(call.identity).toMatchObject({ kind: 'service', tenantId: 'tenant-a', service: 'image', partner });
      expect(JSON.stringify(call.variables)).not.toContain('p1');
    }
    // Without a partner, none is claimed.
    await client.reserve({ ...reserveInput, requestId: 'req-4' });
    expect(calls[2]!.identity).not.toHaveProperty('partner');
  });

  it('retries 5xx and INTERNAL_SERVER_ERROR answers, then succeeds', async () => {
    const { url, calls } = await startDouble(({ attempt }, res) => {
      if (attempt === 1) return json(res, 503, { error: 'unavailable' });
      if (attempt === 2) return json(res, 200, { data: null, errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }] });
      return json(res, 200, { data: { releaseReservation: { ...reservation, status: 'RELEASED' } } });
    });
    const client = createCreditsClient({ url, secret, service: 'image', retries: 2, retryDelayMs: 1 });
    expect(await client.release({ tenantId: 't', reservationId: 'rsv_1' })).toMatchObject({ status: 'RELEASED' });
    expect(calls).toHaveLength(3);
  });

  it('aborts an attempt that takes longer than timeoutMs and retries it', async () => {
    const { url, calls } = await startDouble(({ attempt }, res) => {
      if (attempt === 1) return; // never answers
      json(res, 200, { data: { grantSignupCredits: { available: 100, reserved: 0 } } });
    });
    const client = createCreditsClient({ url, secret, service: 'user', timeoutMs: 100, retryDelayMs: 1 });
    expect(await client.grantSignupCredits({ tenantId: 't', userId: 'u' })).toEqual({ available: 100, reserved: 0 });
    expect(calls).toHaveLength(2);
  });

  it('gives up after the retries with UPSTREAM_UNAVAILABLE', async () => {
    const { url, calls } = await startDouble((_, res) => json(res, 502, {}));
    const client = createCreditsClient({ url, secret, service: 'image', retries: 3, retryDelayMs: 1 });
    await expect(client.quoteImage({ tenantId: 't', modelId: 'm', size: '1024*1024', count: 1 })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(calls).toHaveLength(4);
  });

  it('an unreachable billing is UPSTREAM_UNAVAILABLE', async () => {
    const { url } = await startDouble(() => undefined);
    server!.close();
    server!.closeAllConnections();
    const client = createCreditsClient({ url, secret, service: 'image', retries: 1, retryDelayMs: 1 });
    await expect(client.quoteChat({ tenantId: 't', modelId: 'm', inputTokens: 1, outputTokens: 1 })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });

  it.each(['INSUFFICIENT_CREDITS', 'NOT_FOUND', 'CONFLICT', 'BAD_USER_INPUT'])('passes %s on as an AppError, without retrying', async (code) => {
    const { url, calls } = await startDouble((_, res) =>
      json(res, 200, { data: null, errors: [{ message: 'Not enough credits', extensions: { code, available: 3, requested: 10, nested: { x: 1 } } }] }),
    );
    const client = createCreditsClient({ url, secret, service: 'conversation', retryDelayMs: 1 });
    const error = await client.reserve(reserveInput).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ code, message: 'Not enough credits', extensions: { code, available: 3, requested: 10 } });
    expect((error as AppError).extensions.nested).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('a refused credential (401) is a BillingCallError, not retried and not shown to clients as UNAUTHENTICATED', async () => {
    const { url, calls } = await startDouble((_, res) => json(res, 401, { errors: [{ message: 'A valid gateway credential is required', extensions: { code: 'UNAUTHENTICATED' } }] }));
    const client = createCreditsClient({ url, secret, service: 'conversation', retryDelayMs: 1 });
    const error = await client.release({ tenantId: 't', reservationId: 'r' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BillingCallError);
    expect(error).not.toBeInstanceOf(AppError);
    expect(calls).toHaveLength(1);
  });

  it('computes the shortfall of a settlement from the actual amount and the charged amount', async () => {
    const { url } = await startDouble((_, res) => json(res, 200, { data: { settleReservation: { ...reservation, status: 'SETTLED', settledAmount: 15 } } }));
    const client = createCreditsClient({ url, secret, service: 'conversation' });
    expect(await client.settle({ tenantId: 't', reservationId: 'rsv_1', actualAmount: 20, reason: 'CHAT_USAGE' })).toMatchObject({ settledAmount: 15, shortfall: 5 });
    expect(await client.settle({ tenantId: 't', reservationId: 'rsv_1', actualAmount: 12, reason: 'CHAT_USAGE' })).toMatchObject({ shortfall: 0 });
  });

  it("leaves no abort listener on the caller's signal after retries, so a long-lived signal does not collect them", async () => {
    const { url, calls } = await startDouble(({ attempt }, res) => {
      if (attempt < 3) return json(res, 503, { error: 'unavailable' });
      return json(res, 200, { data: { releaseReservation: { ...reservation, status: 'RELEASED' } } });
    });
    const client = createCreditsClient({ url, secret, service: 'image', retries: 2, retryDelayMs: 1 });
    const controller = new AbortController();
    for (let i = 0; i < 3; i++) expect(await client.release({ tenantId: 't', reservationId: 'rsv_1' }, { signal: controller.signal })).toMatchObject({ status: 'RELEASED' });
    expect(calls.length).toBeGreaterThanOrEqual(3);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it("stops retrying when the caller's signal aborts", async () => {
    const { url, calls } = await startDouble(() => undefined);
    const client = createCreditsClient({ url, secret, service: 'conversation', timeoutMs: 5_000, retries: 5 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    await expect(client.reserve(reserveInput, { signal: controller.signal })).rejects.toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
    expect(calls).toHaveLength(1);
  });
});
