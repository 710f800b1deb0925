import type { Request } from 'express';
import type { GraphQLSchema } from 'graphql';
import { Gauge } from 'prom-client';
import type { Identity } from '@firefly/auth';
import { ErrorCode } from '@firefly/errors';
import type { Logger } from '@firefly/logger';
import type { Redis } from '@firefly/redis';
import { sendErrors } from '../http-errors.ts';
import type { DocumentLimits } from '../limits/index.ts';
import type { GatewayModule, OperationRecord } from '../module.ts';
import { createPersistedQueryListStore, type HeldList } from './store.ts';
import { publishValidationPlugin } from './validate.ts';

export interface PersistedQueryListsOptions {
  redis: Redis;
  /** A Redis connection of its own for the publication channel. */
  createSubscriber: () => Redis;
  closeSubscriber: (subscriber: Redis) => Promise<void>;
  logger: Logger;
  limits: DocumentLimits;
  /** The partner a request comes from (its `x-api-key`), or undefined for everyone else. */
  partnerOf: (identity: Identity) => string | undefined;
  /** Backstop comparison of list versions with Redis. Default 5 s. */
  recheckMs?: number;
}

/**
 * Partners' persisted query lists at the gateway (docs/partners.md): a request made with an `x-api-key` may run only
 * an operation of its partner's published list —
 *
 * - by id, in Apollo's protocol (`extensions.persistedQuery.sha256Hash`, POST, or GET for queries): the gateway puts
 *   the listed body in its place; an id outside the list is PERSISTED_QUERY_NOT_FOUND;
 * - as free-form `query` text only when it is exactly the body of a listed operation, else
 *   PERSISTED_QUERY_NOT_IN_LIST.
 *
 * Refusals are answered here, before Apollo Server sees the request: nothing runs. The lists are held in memory
 * (store.ts); before refusing, the module asks Redis once whether the partner's list has a newer version (published
 * a moment ago, announcement still on its way), so a publish is enforced everywhere as soon as it has answered. Accepted operations then pass the
 * document limits like every other document (this module's httpBody runs before theirs). Everyone else's requests
 * are untouched (ordinary clients keep automatic persisted queries). The module also checks every
 * `publishPersistedQueries` manifest against the supergraph and the limits (validate.ts).
 */
export function usePersistedQueryLists(options: PersistedQueryListsOptions): GatewayModule {
  const store = createPersistedQueryListStore({ ...options, recheckMs: options.recheckMs ?? 5_000 });
  let apiSchema: GraphQLSchema | undefined;
  const started = store.start();
  started.catch((error: unknown) => options.logger.error({ err: error }, 'persisted query lists: subscribing to publications failed'));

  return {
    name: 'persisted-query-lists',
    schema({ apiSchema: schema }) {
      apiSchema = schema;
    },
    metrics(registry) {
      // Read when /metrics is scraped: the version of every partner's list this replica holds, so operators see a
      // publish reach every replica (all replicas report the same version) or one lagging behind.
      new Gauge({
        name: 'gateway_persisted_query_list_version',
        help: "Version of each partner's persisted query list this gateway replica holds in memory, by partner (absent: no list)",
        labelNames: ['partner'] as const,
        registers: [registry],
        collect() {
          this.reset();
          for (const [partner, version] of store.versions()) this.set({ partner }, version);
        },
      });
    },
    readiness: [
      {
        name: 'persisted-query-lists',
        async check() {
          await started;
          if (!store.loaded) throw new Error('persisted query lists not loaded yet');
        },
      },
    ],
    apollo: publishValidationPlugin({ limits: options.limits, schema: () => apiSchema }),
    async httpBody(req, res, next) {
      const partnerId = options.partnerOf((res.locals.caller as { identity: Identity }).identity);
      if (partnerId === undefined) return next();
      const record = res.locals.operation as OperationRecord;
      let refusal = admit(req, record, store.get(partnerId));
      if (refusal) {
        // Perhaps published a moment ago, before its announcement reached this replica: ask Redis once. (Refusals
        // are what costs the round trip; an accepted operation never waits for Redis.)
        try {
          refusal = admit(req, record, await store.refresh(partnerId));
        } catch (error) {
          options.logger.warn({ err: error, partnerId }, 'persisted query lists: checking Redis for a newer list failed; deciding on the list held');
        }
      }
      if (!refusal) return next();
      sendErrors(res, [{ message: refusal.message, extensions: { code: refusal.code } }]);
    },
    stop: () => store.stop(),
  };
}

interface Refusal {
  code: typeof ErrorCode.PERSISTED_QUERY_NOT_FOUND | typeof ErrorCode.PERSISTED_QUERY_NOT_IN_LIST;
  message: string;
}

const NOT_FOUND: Refusal = { code: ErrorCode.PERSISTED_QUERY_NOT_FOUND, message: "No operation with this id in the partner's persisted query list" };
const NOT_IN_LIST: Refusal = {
  code: ErrorCode.PERSISTED_QUERY_NOT_IN_LIST,
  message: "Partners may run only the operations of their persisted query list: send the operation's id, or its listed body exactly",
};

/**
 * Decides a partner's request against its list; on an accepted id, rewrites the request to carry the listed body as
 * its `query` (POST body, or GET query string) without the `persistedQuery` extension, so Apollo Server neither looks
 * the id up in nor adds it to the automatic persisted query cache.
 */
function admit(req: Request, record: OperationRecord, list: HeldList | undefined): Refusal | undefined {
  const get = req.method === 'GET';
  const source = get ? (req.query as Record<string, unknown>) : req.body;
  // Fail closed: anything but one request object naming a listed operation is refused here, batches included (should
  // batching ever be switched on, a batch would otherwise carry unlisted operations past this check).
  if (typeof source !== 'object' || source === null || Array.isArray(source)) return NOT_IN_LIST;
  const extensions = readObject(source.extensions);
  const persisted = readObject(extensions?.persistedQuery);
  const query: unknown = source.query;
  if (persisted) {
    const id = persisted.sha256Hash;
    const operation = typeof id === 'string' ? list?.byId.get(id) : undefined;
    if (!operation) return NOT_FOUND;
    if (query !== undefined && query !== operation.body) return NOT_IN_LIST;
    const { persistedQuery: _, ...otherExtensions } = extensions!;
    if (get) rewriteQueryString(req, operation.body, otherExtensions);
    else {
      source.query = operation.body;
      source.extensions = otherExtensions;
    }
    record.partnerOperationId = operation.id;
    return undefined;
  }
  const listed = typeof query === 'string' ? list?.byBody.get(query) : undefined;
  if (!listed) return NOT_IN_LIST;
  record.partnerOperationId = listed.id;
  return undefined;
}

function rewriteQueryString(req: Request, body: string, extensions: Record<string, unknown>): void {
  const url = new URL(req.url, 'http://gateway');
  url.searchParams.set('query', body);
  if (Object.keys(extensions).length > 0) url.searchParams.set('extensions', JSON.stringify(extensions));
  else url.searchParams.delete('extensions');
  req.url = `${url.pathname}${url.search}`;
}

/** An object, or a JSON object in a string (GET query parameters). */
function readObject(value: unknown): Record<string, unknown> | undefined {
  let parsed = value;
  if (typeof value === 'string') {
    try {
      parsed = JSON.parse(value) as unknown;
    } catch {
      return undefined;
    }
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
}

