import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { request, type Dispatcher } from 'undici';
import { CREDENTIAL_HEADER, createCredentialSigner } from '@firefly/auth';
import { AppError, ErrorCode, isErrorCode, upstreamUnavailable, type ErrorDetails } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import { CHAT_COST, GRANT_SIGNUP_CREDITS, IMAGE_COST, RELEASE, RESERVE, RESERVE_CHAT, RESERVE_IMAGE, SET_CHAT_PRICE, SET_IMAGE_PRICE, SETTLE } from './operations.ts';
import type { CallOptions, CreditBalance, CreditsClient, PartnerScope, Reservation, TenantScope } from './types.ts';

/** Options of {@link createCreditsClient}. */
export interface CreditsClientOptions {
  /** The billing subgraph's GraphQL endpoint, e.g. `http://localhost:4004/graphql` (BILLING_SUBGRAPH_URL). */
  url: string;
  /** The shared secret of gateway and service credentials (INTERNAL_TOKEN_SECRET). */
  secret: string;
  /** The calling service, e.g. `conversation`: the credential's issuer and `service`. */
  service: string;
  /** Milliseconds one attempt may take before it is aborted. Default 5,000. */
  timeoutMs?: number;
  /** Attempts after the first one, for network errors, timeouts, 5xx and INTERNAL_SERVER_ERROR. Default 2. */
  retries?: number;
  /** Backoff before retry n is `retryDelayMs × 2^(n−1)`, jittered ±50 %. Default 100. */
  retryDelayMs?: number;
  /** Logs retries (warn). Default: none. */
  logger?: Logger;
  /** The undici dispatcher the calls go through (tests compose interceptors on one). Default: undici's global one. */
  dispatcher?: Dispatcher;
}

/** Codes that describe the request (the answer will not change on retry): passed on to our caller as they are. */
const BUSINESS_CODES = new Set<ErrorCode>([ErrorCode.BAD_USER_INPUT, ErrorCode.NOT_FOUND, ErrorCode.CONFLICT, ErrorCode.INSUFFICIENT_CREDITS]);
/** Codes worth another attempt. Safe because every operation of this client is idempotent. */
const RETRYABLE_CODES = new Set<string>([ErrorCode.INTERNAL_SERVER_ERROR, ErrorCode.UPSTREAM_UNAVAILABLE, ErrorCode.RATE_LIMITED]);

type Outcome<T> = { ok: true; value: T } | { ok: false; retryable: boolean; error: AppError | BillingCallError };

interface GraphQLBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message?: string; extensions?: Record<string, unknown> }>;
}

/**
 * A typed client of billing's internal credit API, for the conversation and image subgraphs. Every call carries a
 * fresh service credential for the given tenant. Every operation is idempotent (reservations by idempotency key,
 * settle/release by reservation id, the grant per user, quotes are reads), which is what makes the retries safe:
 * a retry after a timeout whose first attempt did land returns the first attempt's result instead of acting twice.
 *
 * Errors come back as AppErrors with the registry's codes: INSUFFICIENT_CREDITS, NOT_FOUND, CONFLICT and
 * BAD_USER_INPUT as billing answered them; UPSTREAM_UNAVAILABLE when billing could not be reached or kept failing;
 * a {@link BillingCallError} (masked as INTERNAL_SERVER_ERROR by formatError) when billing refused our credential or
 * our document — a deployment or code bug, not retried.
 */
export function createCreditsClient(options: CreditsClientOptions): CreditsClient {
  const sign = createCredentialSigner({ secret: options.secret, issuer: options.service });
  const timeoutMs = options.timeoutMs ?? 5_000;
  const retries = options.retries ?? 2;
  const retryDelayMs = options.retryDelayMs ?? 100;

  async function call<T>(scope: TenantScope & PartnerScope, operationName: string, query: string, variables: Record<string, unknown>, field: string, callOptions?: CallOptions): Promise<T> {
    const requestId = scope.requestId ?? randomUUID();
    let last: AppError | BillingCallError | undefined;
    for (let attempt = 0; attempt <= retries; attempt++) {
      if (attempt > 0) {
        options.logger?.warn({ operationName, attempt, requestId, err: last }, 'retrying a billing call');
        await sleep(retryDelayMs * 2 ** (attempt - 1) * (0.5 + Math.random()), callOptions?.signal);
      }
      const outcome = await attemptOnce<T>(scope, requestId, operationName, query, variables, field, callOptions?.signal);
      if (outcome.ok) return outcome.value;
      if (!outcome.retryable) throw outcome.error;
      last = outcome.error;
    }
    throw last ?? upstreamUnavailable('The billing service is unavailable');
  }

  async function attemptOnce<T>(
    scope: TenantScope & PartnerScope,
    requestId: string,
    operationName: string,
    query: string,
    variables: Record<string, unknown>,
    field: string,
    signal: AbortSignal | undefined,
  ): Promise<Outcome<T>> {
    const credential = await sign({ kind: 'service', tenantId: scope.tenantId, requestId, service: options.service, ...(scope.partner ? { partner: scope.partner } : {}) });
    if (signal?.aborted) return { ok: false, retryable: false, error: upstreamUnavailable('The billing call was aborted') };
    // undici's request API on the process's keep-alive pool, not `fetch`: the WHATWG machinery (Request, Headers,
    // a chain of promise steps before the request is queued) kept the thread ~1 ms per call, which delayed what
    // the caller started alongside — the chat answer's DashScope request is written in the same turn of the loop.
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const onAbort = () => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    let status: number;
    let body: GraphQLBody | undefined;
    try {
      const response = await request(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json', [CREDENTIAL_HEADER]: credential },
        body: JSON.stringify({ operationName, query, variables }),
        signal: controller.signal,
        ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}),
      });
      status = response.statusCode;
      body = parseBody(await response.body.text());
    } catch (error) {
      if (signal?.aborted) return { ok: false, retryable: false, error: upstreamUnavailable('The billing call was aborted', {}, error) };
      return { ok: false, retryable: true, error: upstreamUnavailable('The billing service is unavailable', {}, error) };
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }

    const first = body?.errors?.[0];
    if (first) return { ok: false, ...mapGraphQLError(first, status) };
    if (status === 401 || status === 403) {
      return { ok: false, retryable: false, error: internal(`billing refused the service credential (HTTP ${status})`) };
    }
    if (status < 200 || status > 299 || !body?.data || !(field in body.data)) {
      return { ok: false, retryable: status >= 500 || status === 429, error: upstreamUnavailable('The billing service is unavailable', { status }) };
    }
    return { ok: true, value: body.data[field] as T };
  }

  return {
    // The partner, if any, rides in the signed credential (billing records it on the hold), not in the arguments.
    reserve: ({ tenantId, requestId, partner, ...input }, callOptions) =>
      call<Reservation>({ tenantId, requestId, partner }, 'ReserveCredits', RESERVE, { input }, 'reserveCredits', callOptions),
    reserveChat: ({ tenantId, requestId, partner, ...input }, callOptions) =>
      call<Reservation>({ tenantId, requestId, partner }, 'ReserveChatCredits', RESERVE_CHAT, { input }, 'reserveChatCredits', callOptions),
    reserveImage: ({ tenantId, requestId, partner, ...input }, callOptions) =>
      call<Reservation>({ tenantId, requestId, partner }, 'ReserveImageCredits', RESERVE_IMAGE, { input }, 'reserveImageCredits', callOptions),
    async settle({ tenantId, requestId, reservationId, actualAmount, reason, referenceId }, callOptions) {
      const reservation = await call<Reservation>(
        { tenantId, requestId },
        'SettleReservation',
        SETTLE,
        { id: reservationId, actualAmount, reason, referenceId: referenceId ?? null },
        'settleReservation',
        callOptions,
      );
      return { ...reservation, shortfall: Math.max(0, actualAmount - (reservation.settledAmount ?? 0)) };
    },
    release: ({ tenantId, requestId, reservationId }, callOptions) =>
      call<Reservation>({ tenantId, requestId }, 'ReleaseReservation', RELEASE, { id: reservationId }, 'releaseReservation', callOptions),
    grantSignupCredits: ({ tenantId, requestId, userId }, callOptions) =>
      call<CreditBalance>({ tenantId, requestId }, 'GrantSignupCredits', GRANT_SIGNUP_CREDITS, { userId }, 'grantSignupCredits', callOptions),
    quoteChat: ({ tenantId, requestId, ...input }, callOptions) => call<number>({ tenantId, requestId }, 'ChatCost', CHAT_COST, input, 'chatCost', callOptions),
    quoteImage: ({ tenantId, requestId, ...input }, callOptions) => call<number>({ tenantId, requestId }, 'ImageCost', IMAGE_COST, input, 'imageCost', callOptions),
    setChatPrice: ({ tenantId, requestId, ...input }, callOptions) =>
      call<boolean>({ tenantId, requestId }, 'SetChatPrice', SET_CHAT_PRICE, input, 'setChatPrice', callOptions),
    setImagePrice: ({ tenantId, requestId, ...input }, callOptions) =>
      call<boolean>({ tenantId, requestId }, 'SetImagePrice', SET_IMAGE_PRICE, input, 'setImagePrice', callOptions),
  };
}

/** The answer's JSON, or undefined when it is not JSON (a proxy's HTML error page, a cut-off body). */
function parseBody(text: string): GraphQLBody | undefined {
  try {
    return JSON.parse(text) as GraphQLBody;
  } catch {
    return undefined;
  }
}

function mapGraphQLError(error: NonNullable<GraphQLBody['errors']>[number], status: number): { retryable: boolean; error: AppError | BillingCallError } {
  const { code, ...rest } = error.extensions ?? {};
  const message = error.message ?? 'billing answered with an error';
  if (isErrorCode(code) && BUSINESS_CODES.has(code)) return { retryable: false, error: new AppError(code, message, safeDetails(rest)) };
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) {
    return { retryable: true, error: upstreamUnavailable('The billing service is unavailable', { upstreamCode: code }) };
  }
  // UNAUTHENTICATED / FORBIDDEN (our credential), validation errors (our document): a bug or misconfiguration here.
  return { retryable: false, error: internal(`billing refused the call: ${String(code ?? `HTTP ${status}`)}: ${message}`) };
}

/** Keeps scalar details (e.g. `available`, `field`) for our own callers; drops anything nested. */
function safeDetails(extensions: Record<string, unknown>): ErrorDetails {
  const details: ErrorDetails = {};
  for (const [key, value] of Object.entries(extensions)) {
    if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) details[key] = value as string | number | boolean | null;
  }
  return details;
}

/**
 * Billing refused our credential or our document: a deployment or code bug on our side. Deliberately not an
 * AppError, so the caller's formatError masks it as INTERNAL_SERVER_ERROR for clients and logs the reason.
 */
export class BillingCallError extends Error {
  override readonly name = 'BillingCallError';
}

function internal(reason: string): BillingCallError {
  return new BillingCallError(reason);
}

/** Waits `ms` (a retry's backoff); UPSTREAM_UNAVAILABLE as soon as the caller's signal aborts. Adds no abort listener that outlives the wait. */
async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    throw upstreamUnavailable('The billing call was aborted', {}, error);
  }
}
