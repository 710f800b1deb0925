import type { Request } from 'express';
import { GraphQLError, type GraphQLFormattedError } from 'graphql';
import { sendErrors } from '../http-errors.ts';
import type { GatewayModule } from '../module.ts';
import { readCostDirectives } from './cost.ts';
import { createDocumentLimits, type DocumentLimits, type DocumentLimitSettings } from './document-limits.ts';

export { createDocumentLimits, type DocumentLimits, type DocumentLimitSettings } from './document-limits.ts';
export { readCostDirectives } from './cost.ts';

/**
 * Document limits on HTTP: every GraphQL document is parsed under the token limit and checked (depth, aliases, root
 * fields, cost) before Apollo Server sees it; a document over a limit is answered 400 with no `data`. graphql-ws
 * admits subscriptions through the same `limits` (subscriptions/admission.ts), and so will persisted operations.
 */
export function useDocumentLimits(settings: DocumentLimitSettings): GatewayModule & { limits: DocumentLimits } {
  const limits = createDocumentLimits(settings);
  return {
    name: 'document-limits',
    limits,
    schema({ apiSchema, coreSupergraphSdl }) {
      limits.setSchema(apiSchema, readCostDirectives(coreSupergraphSdl));
    },
    apollo: {
      async requestDidStart() {
        return {
          // An automatic persisted query sent by hash alone: its text comes from the APQ cache, after httpBody. It was
          // admitted when registered, but its cost depends on this request's variables: check it again (cached by text).
          async didResolveOperation({ metrics, source, request }) {
            if (!metrics.persistedQueryHit || source === undefined) return;
            const verdict = limits.admit(source, request);
            if ('errors' in verdict) throw withStatus400(verdict.errors[0]!);
          },
        };
      },
    },
    httpBody(req, res, next) {
      const request = graphQLRequestOf(req);
      // Nothing to check (an APQ hash alone, a malformed body): Apollo Server answers as it does.
      if (!request) return next();
      const verdict = limits.admit(request.query, request);
      if ('document' in verdict) return next();
      sendErrors(res, verdict.errors.map((error) => error.toJSON() as GraphQLFormattedError), 400);
    },
  };
}

interface GraphQLRequestOfHttp {
  query: string;
  operationName?: string | undefined;
  /** As sent (a GET's JSON decoded): the limits refuse anything but an object with BAD_REQUEST. */
  variables?: unknown;
}

/** The document of a GraphQL-over-HTTP request: POST JSON body, or GET query string (variables as JSON there). */
function graphQLRequestOf(req: Request): GraphQLRequestOfHttp | undefined {
  const source: Record<string, unknown> | undefined = req.method === 'GET' ? (req.query as Record<string, unknown>) : isObject(req.body) ? req.body : undefined;
  if (!source || typeof source.query !== 'string') return undefined;
  let variables = source.variables;
  // A GET carries variables as JSON text; text that is not JSON stays a string, which the limits refuse.
  if (req.method === 'GET' && typeof variables === 'string') {
    try {
      variables = JSON.parse(variables) as unknown;
    } catch {
      // kept as sent
    }
  }
  return {
    query: source.query,
    operationName: typeof source.operationName === 'string' ? source.operationName : undefined,
    variables,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A refusal thrown from inside Apollo Server's pipeline, answered 400 with no `data` as httpBody answers one. */
function withStatus400(error: GraphQLError): GraphQLError {
  return new GraphQLError(error.message, { extensions: { ...error.extensions, http: { status: 400 } } });
}
