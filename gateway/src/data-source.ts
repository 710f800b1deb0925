import type { GraphQLDataSource, GraphQLDataSourceProcessOptions } from '@apollo/gateway';
import { parseCacheControlHeader } from '@apollo/gateway/dist/datasources/parseCacheControlHeader.js';
import type { GatewayCacheHint, GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import { circuitBreaker, ConsecutiveBreaker, handleWhen, isBrokenCircuitError, retry, wrap, CircuitState, type IPolicy } from 'cockatiel';
import { GraphQLError } from 'graphql';
import { Agent } from 'undici';
import { CREDENTIAL_HEADER } from '@firefly/auth';
import { upstreamUnavailable } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { GatewayContext } from './context.ts';
import type { SubgraphCall } from './modules/module.ts';
import { AnswerHeaders, fetchSubgraph, SubgraphFetchError, type SubgraphAnswer } from './subgraph-fetch.ts';

/** How the gateway protects itself from one subgraph (docs/architecture.md, "Circuit breakers and deadlines"). */
export interface SubgraphResilience {
  /** One fetch (connect, wait, read the whole answer) must finish within this many milliseconds. */
  timeoutMs: number;
  /** Every fetch of one client operation must finish within this many milliseconds of the operation's arrival. */
  requestTimeoutMs: number;
  /** A subgraph answer larger than this many bytes is abandoned. */
  maxResponseBytes: number;
  /** Consecutive failed calls (unreachable, timed out, 5xx) that open the breaker. */
  breakerFailures: number;
  /** Milliseconds an open breaker fails calls fast before it lets one probe call through (half-open). */
  breakerHalfOpenMs: number;
}

/** Why a call failed, as `extensions.reason` of its UPSTREAM_UNAVAILABLE. */
export type UpstreamFailureReason = 'circuit_open' | 'unreachable' | 'timeout' | 'bad_status' | 'response_too_large' | 'invalid_response';

export type CircuitStateName = 'closed' | 'open' | 'half_open';

export interface CredentialedDataSourceOptions {
  name: string;
  url: string;
  resilience: SubgraphResilience;
  logger?: Logger;
  /** Told of every breaker state change (metrics). */
  onCircuitChange?: (subgraph: string, state: CircuitStateName) => void;
  /** Told of every failed call, after its retry (metrics). */
  onFailure?: (subgraph: string, reason: UpstreamFailureReason) => void;
  /** Wrappers around every call (modules' `subgraphCall`), outermost first. */
  wrap?: ReadonlyArray<(subgraph: string, next: SubgraphCall) => SubgraphCall>;
}

/** A failed attempt, classified; thrown inside the policies and turned into UPSTREAM_UNAVAILABLE outside them. */
class AttemptFailure extends Error {
  constructor(
    readonly reason: Exclude<UpstreamFailureReason, 'circuit_open'>,
    /** Nothing reached the subgraph (refused, reset before an answer): safe to try a query once more. */
    readonly connection: boolean,
    /** Says something about the subgraph's health (an answer that is too large, or a deadline another fetch used up, does not). */
    readonly countsAgainstBreaker: boolean,
    cause: unknown,
  ) {
    super(reason, { cause });
  }
}

/** Socket-level errors of undici and Node before an answer arrived. */
const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED']);

function classify(error: unknown): AttemptFailure {
  if (error instanceof SubgraphFetchError) {
    return error.reason === 'timeout' ? new AttemptFailure('timeout', false, error.bound === 'subgraph', error) : new AttemptFailure('response_too_large', false, false, error);
  }
  // The error for a non-2xx answer (errorFromAnswer) carries the status in extensions.response.
  const status = (error as { extensions?: { response?: { status?: unknown } } } | null)?.extensions?.response?.status;
  if (typeof status === 'number') return new AttemptFailure('bad_status', false, status >= 500 || status === 429, error);
  const code = (error as { code?: string } | null)?.code ?? (error as { cause?: { code?: string } } | null)?.cause?.code;
  if (code && CONNECTION_ERROR_CODES.has(code)) return new AttemptFailure('unreachable', true, true, error);
  return new AttemptFailure('invalid_response', false, true, error);
}

const MESSAGES: Record<UpstreamFailureReason, (service: string) => string> = {
  circuit_open: (service) => `The ${service} service is unavailable`,
  unreachable: (service) => `The ${service} service is unavailable`,
  bad_status: (service) => `The ${service} service is unavailable`,
  invalid_response: (service) => `The ${service} service is unavailable`,
  timeout: (service) => `The ${service} service did not answer in time`,
  response_too_large: (service) => `The ${service} service's answer is too large`,
};

const STATE_NAMES: Record<CircuitState, CircuitStateName> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half_open',
  [CircuitState.Isolated]: 'open',
};

/**
 * Calls a subgraph with the gateway-issued credential of the current request. Nothing the client sent is
 * forwarded as-is: the subgraph learns who is calling only from the signed credential.
 *
 * Every call goes through a circuit breaker of this subgraph (cockatiel): after `breakerFailures` consecutive
 * failed calls it opens, and calls fail at once, without touching the network, until `breakerHalfOpenMs` later one
 * call is let through as a probe; its success closes the breaker, its failure opens it again. A query (never a
 * mutation) whose connection failed before an answer is tried once more. Each fetch has a deadline: the sooner of
 * its own `timeoutMs` and what remains of the operation's `requestTimeoutMs`.
 *
 * Every failure becomes UPSTREAM_UNAVAILABLE naming the service (`extensions.service`) and why (`extensions.reason`),
 * never a raw socket error; the executor then returns the other subgraphs' data with it (partial data).
 *
 * The request itself is what `@apollo/gateway`'s RemoteGraphQLDataSource sends (a JSON POST of query, variables,
 * operationName and extensions, any header the executor adds, the subgraph's `cache-control` folded into the
 * operation's cache policy, a non-2xx answer as an error carrying `extensions.response`), without its per-fetch
 * node-fetch `Headers` and `Request` objects (26–37 µs a fetch in the bench's profiles): headers are a plain record
 * handed to undici as it is.
 */
export class CredentialedDataSource implements GraphQLDataSource<GatewayContext> {
  private readonly serviceName: string;
  private readonly url: string;
  private readonly agent: Agent;
  private readonly call: SubgraphCall;
  private readonly resilience: SubgraphResilience;
  private readonly queryPolicy: IPolicy;
  private readonly mutationPolicy: IPolicy;
  private readonly onFailure: CredentialedDataSourceOptions['onFailure'];
  private readonly logger: Logger | undefined;

  constructor(options: CredentialedDataSourceOptions) {
    const { resilience } = options;
    // One keep-alive pool per subgraph, driven through undici's request API. The stock fetcher, make-fetch-happen
    // (a retry wrapper and minipass streams around node-fetch), is the largest CPU cost of a federated request after
    // result merging; Node's global fetch (web streams) is not much cheaper.
    this.agent = new Agent({ keepAliveTimeout: 30_000, headersTimeout: resilience.timeoutMs, bodyTimeout: resilience.timeoutMs });
    this.url = options.url;
    this.serviceName = options.name;
    this.resilience = resilience;
    this.logger = options.logger;
    this.onFailure = options.onFailure;

    const breaker = circuitBreaker(
      handleWhen((error) => error instanceof AttemptFailure && error.countsAgainstBreaker),
      { halfOpenAfter: resilience.breakerHalfOpenMs, breaker: new ConsecutiveBreaker(resilience.breakerFailures) },
    );
    breaker.onStateChange((state) => {
      const name = STATE_NAMES[state];
      const level = name === 'open' ? 'warn' : 'info';
      this.logger?.[level]({ subgraph: this.serviceName, state: name }, 'subgraph circuit breaker changed state');
      options.onCircuitChange?.(this.serviceName, name);
    });
    const retryConnection = retry(
      handleWhen((error) => error instanceof AttemptFailure && error.connection),
      { maxAttempts: 1 },
    );
    this.mutationPolicy = breaker;
    this.queryPolicy = wrap(breaker, retryConnection);

    const base: SubgraphCall = (processOptions) => this.protectedCall(processOptions);
    this.call = (options.wrap ?? []).reduceRight<SubgraphCall>((next, wrapper) => wrapper(options.name, next), base);
  }

  process(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    return this.call(options);
  }

  private async protectedCall(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const policy = /^\s*mutation\b/.test(options.request.query ?? '') ? this.mutationPolicy : this.queryPolicy;
    try {
      return await policy.execute(() => this.attempt(options));
    } catch (error) {
      const reason: UpstreamFailureReason = isBrokenCircuitError(error) ? 'circuit_open' : error instanceof AttemptFailure ? error.reason : 'invalid_response';
      const context = options.context as Partial<GatewayContext> | undefined;
      if (reason !== 'circuit_open') {
        (context?.logger ?? this.logger)?.warn({ err: error instanceof AttemptFailure ? error.cause : error, subgraph: this.serviceName, reason }, 'subgraph fetch failed');
      }
      this.onFailure?.(this.serviceName, reason);
      throw upstreamUnavailable(MESSAGES[reason](this.serviceName), { service: this.serviceName, reason }, error);
    }
  }

  private async attempt(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    try {
      return await this.send(options);
    } catch (error) {
      throw classify(error);
    }
  }

  /** One fetch: the request as RemoteGraphQLDataSource would send it, the answer as it would return it. */
  private async send(options: GraphQLDataSourceProcessOptions<GatewayContext>): Promise<GatewayGraphQLResponse> {
    const { request, context } = options;
    const headers: Record<string, string> = {};
    // Headers the executor adds (the federated-tracing request header, when usage reporting is on).
    if (request.http?.headers) for (const [name, value] of request.http.headers) headers[name.toLowerCase()] = value;
    headers['content-type'] = 'application/json';
    let budgetMs = this.resilience.timeoutMs;
    let bound: 'request' | 'subgraph' = 'subgraph';
    // Health checks and schema loading run without a request context; they carry no identity.
    if (context && 'credential' in context) {
      headers[CREDENTIAL_HEADER] = await context.credential();
      headers['x-request-id'] = context.requestId;
      // A subscription lives for hours: its event fetches get each their own limit, not the operation's.
      const operation = context.operation;
      if (operation && operation.operationType !== 'subscription') {
        const left = operation.startedAt + this.resilience.requestTimeoutMs - performance.now();
        if (left < budgetMs) {
          budgetMs = left;
          bound = 'request';
        }
      }
    }
    if (!request.query) throw new Error('Missing query');
    const body = JSON.stringify({ query: request.query, variables: request.variables, operationName: request.operationName, extensions: request.extensions });

    const answer = await fetchSubgraph(this.agent, { url: this.url, headers, body, budgetMs, bound, maxResponseBytes: this.resilience.maxResponseBytes });
    if (answer.status < 200 || answer.status > 299) throw errorFromAnswer(this.url, answer);
    const parsed = parseBody(answer);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`Expected JSON response body, but received: ${String(parsed)}`);
    const response: GatewayGraphQLResponse = { ...(parsed as GatewayGraphQLResponse), http: { headers: new AnswerHeaders(answer.headers), status: answer.status } };

    // The subgraph's cache-control header restricts the operation's cache policy (what the response cache reads).
    const overallCachePolicy = 'incomingRequestContext' in options ? (options.incomingRequestContext.overallCachePolicy as { restrict?: (hint: GatewayCacheHint) => void } | undefined) : undefined;
    if (overallCachePolicy?.restrict) overallCachePolicy.restrict(cacheHintOf(answer));
    return response;
  }

  /** Closes the keep-alive connections (gateway shutdown). */
  close(): Promise<void> {
    return this.agent.close();
  }
}

/** A JSON body (by content type) parsed, anything else as text — as RemoteGraphQLDataSource's parseBody. */
function parseBody(answer: SubgraphAnswer): unknown {
  const contentType = headerOf(answer, 'content-type');
  if (contentType && (contentType.startsWith('application/json') || contentType.startsWith('application/graphql-response+json'))) return JSON.parse(answer.text);
  return answer.text;
}

function headerOf(answer: SubgraphAnswer, name: string): string | undefined {
  const value = answer.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** RemoteGraphQLDataSource's error for a non-2xx answer: `<status>: <statusText>`, the answer in `extensions.response`. */
function errorFromAnswer(url: string, answer: SubgraphAnswer): GraphQLError {
  let body: unknown;
  try {
    body = parseBody(answer);
  } catch {
    body = answer.text;
  }
  const extensions: Record<string, unknown> = { response: { url, status: answer.status, statusText: '', body } };
  if (answer.status === 401) extensions.code = 'UNAUTHENTICATED';
  else if (answer.status === 403) extensions.code = 'FORBIDDEN';
  return new GraphQLError(`${answer.status}: `, { extensions });
}

/** The subgraph's `cache-control` as a cache hint (Apollo's reading: `max-age`, `private` / `public`). */
function cacheHintOf(answer: SubgraphAnswer): GatewayCacheHint {
  const parsed = parseCacheControlHeader(headerOf(answer, 'cache-control')) as Record<string, string | true | undefined>;
  const hint: GatewayCacheHint = { maxAge: 0 };
  const maxAge = parsed['max-age'];
  if (typeof maxAge === 'string' && /^[0-9]+$/.test(maxAge)) hint.maxAge = Number(maxAge);
  if (parsed.private === true) hint.scope = 'PRIVATE';
  if (parsed.public === true) hint.scope = 'PUBLIC';
  return hint;
}
