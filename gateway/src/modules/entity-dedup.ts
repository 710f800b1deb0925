import type { GatewayGraphQLResponse } from '@apollo/server-gateway-interface';
import type { GatewayModule, SubgraphCall } from './module.ts';

/**
 * Sends each distinct entity representation of an `_entities` fetch once.
 *
 * `@apollo/gateway` builds one representation per entity it reached, so a list of 20 conversations of one owner asks
 * the user subgraph for the same `{ __typename: "User", id }` 20 times (and billing and image after it, each with
 * their own 20 copies). This wrapper collapses identical representations before the fetch (first occurrence order),
 * and fans the answer back out to the positions the gateway expects: `data._entities[i]` for every original `i`
 * (a deep copy per extra position, because the gateway merges into and rewrites what it receives), and every error
 * whose path starts with `_entities.<unique index>` once for each original position, as the subgraph would have
 * answered without the dedup. Errors without such a path pass through once; everything else of the answer is kept.
 */
export function useRepresentationDedup(): GatewayModule {
  return {
    name: 'representation-dedup',
    subgraphCall: (_subgraph, next) => dedupeRepresentations(next),
  };
}

function dedupeRepresentations(next: SubgraphCall): SubgraphCall {
  return async (options) => {
    const variables = options.request.variables;
    const representations = variables?.representations as unknown[] | undefined;
    if (!Array.isArray(representations) || representations.length < 2) return next(options);

    // unique: the distinct representations in first-occurrence order; uniqueOf[i]: the index in it of position i.
    const indexByKey = new Map<string, number>();
    const unique: unknown[] = [];
    const uniqueOf = new Array<number>(representations.length);
    for (let i = 0; i < representations.length; i++) {
      const key = JSON.stringify(representations[i]);
      let u = indexByKey.get(key);
      if (u === undefined) {
        u = unique.length;
        indexByKey.set(key, u);
        unique.push(representations[i]);
      }
      uniqueOf[i] = u;
    }
    if (unique.length === representations.length) return next(options);

    const response = await next({ ...options, request: { ...options.request, variables: { ...variables, representations: unique } } });
    return fanOut(response, uniqueOf, unique.length);
  };
}

function fanOut(response: GatewayGraphQLResponse, uniqueOf: readonly number[], uniqueCount: number): GatewayGraphQLResponse {
  const received = (response.data as { _entities?: unknown } | null | undefined)?._entities;
  // Not the answer the gateway expects (no data, or another length): hand it over as it is, and the gateway reports
  // it exactly as it would have without the dedup.
  const entities = Array.isArray(received) && received.length === uniqueCount ? received : undefined;

  let result = response;
  if (entities) {
    const used = new Array<boolean>(uniqueCount).fill(false);
    const fanned = uniqueOf.map((u) => {
      const entity = entities[u];
      if (!used[u]) {
        used[u] = true;
        return entity;
      }
      return copyJson(entity);
    });
    result = { ...result, data: { ...response.data, _entities: fanned } };
  }
  if (response.errors?.length) {
    let positionsOf: number[][] | undefined;
    const errors = response.errors.flatMap((error) => {
      const path = error.path;
      const u = path && path[0] === '_entities' ? path[1] : undefined;
      if (typeof u !== 'number' || u >= uniqueCount) return [error];
      positionsOf ??= positionsByUnique(uniqueOf, uniqueCount);
      return positionsOf[u]!.map((i) => ({ ...error, path: ['_entities', i, ...path!.slice(2)] }));
    });
    result = { ...result, errors };
  }
  return result;
}

function positionsByUnique(uniqueOf: readonly number[], uniqueCount: number): number[][] {
  const positions = Array.from({ length: uniqueCount }, () => [] as number[]);
  uniqueOf.forEach((u, i) => positions[u]!.push(i));
  return positions;
}

/** A deep copy of a value parsed from JSON (objects, arrays, scalars). */
export function copyJson(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map(copyJson);
  const copy: Record<string, unknown> = {};
  for (const key in value) copy[key] = copyJson((value as Record<string, unknown>)[key]);
  return copy;
}
