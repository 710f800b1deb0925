import DataLoader from 'dataloader';
import { parsePage, toConnection, type Connection, type Page, type PageArgs } from './pagination.ts';

/**
 * A per-request loader of rows by id: one batched query per tick, results in key order, `null` for ids that do
 * not exist (or are invisible to this tenant). Never create one at module scope: it would share rows across users.
 */
export function createByIdLoader<T extends { id: string }>(fetch: (ids: readonly string[]) => Promise<T[]>): DataLoader<string, T | null> {
  return new DataLoader<string, T | null>(async (ids) => {
    const rows = await fetch(ids);
    const byId = new Map(rows.map((row) => [row.id, row]));
    return ids.map((id) => byId.get(id) ?? null);
  });
}

/**
 * A per-request read with no key (a catalog list): however many fields of one request ask for it — 5,000 aliases of
 * `products` — it runs once, and every asker shares the answer. Never create one at module scope.
 */
export function oncePerRequest<T>(read: () => Promise<T>): () => Promise<T> {
  let result: Promise<T> | undefined;
  return () => (result ??= read());
}

/**
 * The row a non-null field points at through a foreign key (a message's conversation, an order's product). A
 * missing one is broken data, not a caller's mistake: it fails like GraphQL's own non-null check (masked as
 * INTERNAL_SERVER_ERROR, logged with this message).
 */
export async function loadRequired<T>(loader: { load(id: string): Promise<T | null> }, id: string, what: string): Promise<T> {
  const row = await loader.load(id);
  if (row === null) throw new Error(`${what} ${id} does not exist`);
  return row;
}

/**
 * A per-request loader of child lists keyed by a parent id (e.g. conversations by user id), with the page size
 * fixed per loader so one batch serves every parent in the request.
 */
export function createGroupLoader<T>(fetch: (keys: readonly string[]) => Promise<T[]>, keyOf: (row: T) => string): DataLoader<string, T[]> {
  return new DataLoader<string, T[]>(async (keys) => {
    const rows = await fetch(keys);
    const groups = new Map<string, T[]>();
    for (const row of rows) {
      const key = keyOf(row);
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    return keys.map((key) => groups.get(key) ?? []);
  });
}

/** One page of a parent's list (e.g. a user's conversations), through a per-request loader. */
export interface PageLoader<Row extends { createdAt: Date; id: string }, Args extends PageArgs = PageArgs> {
  load(parentId: string, args: Args): Promise<Connection<Row>>;
}

/** Rows of one page (`page.take + 1` of them, see toConnection) for each parent id, grouped by parent id. */
export type FetchPages<Row, Args extends PageArgs = PageArgs> = (parentIds: readonly string[], page: Page, args: Args) => Promise<ReadonlyMap<string, Row[]>>;

/**
 * The one shape of a per-request loader of connection pages. Parents asking for the same page (the same arguments:
 * `first`, `after` and any filter) in one request share one batch, so `fetch` sees all their ids at once — one
 * query for all of them where the data layer can (billing's window query), or one indexed query per parent
 * ({@link eachParent}). A bad `first` or `after` fails that field with BAD_USER_INPUT.
 */
export function createPageLoader<Row extends { createdAt: Date; id: string }, Args extends PageArgs = PageArgs>(fetch: FetchPages<Row, Args>): PageLoader<Row, Args> {
  const byArgs = new Map<string, DataLoader<string, Connection<Row>>>();
  return {
    load(parentId, args) {
      const key = argumentsKey(args);
      let loader = byArgs.get(key);
      if (!loader) {
        let page: Page;
        try {
          page = parsePage(args);
        } catch (error) {
          return Promise.reject(error as Error);
        }
        loader = new DataLoader<string, Connection<Row>>(async (parentIds) => {
          const groups = await fetch(parentIds, page, args);
          return parentIds.map((id) => toConnection(groups.get(id) ?? [], page.take));
        });
        byArgs.set(key, loader);
      }
      return loader.load(parentId);
    },
  };
}

/** Adapts a one-parent query (an indexed keyset query with LIMIT) to {@link createPageLoader}. */
export function eachParent<Row, Args extends PageArgs = PageArgs>(fetchOne: (parentId: string, page: Page, args: Args) => Promise<Row[]>): FetchPages<Row, Args> {
  return async (parentIds, page, args) => new Map(await Promise.all(parentIds.map(async (id) => [id, await fetchOne(id, page, args)] as const)));
}

function argumentsKey(args: object): string {
  const entries = Object.entries(args).filter(([, value]) => value !== undefined && value !== null);
  return JSON.stringify(entries.sort(([a], [b]) => a.localeCompare(b)));
}
