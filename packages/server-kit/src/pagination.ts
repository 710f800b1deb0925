import { badUserInput } from '@firefly/errors';

/** Relay-style paging arguments (`first` default 20, max 100; `after` an opaque cursor; docs/api-guide.md, "Conventions"). */
export interface PageArgs {
  first?: number | null;
  after?: string | null;
}

export interface Page {
  take: number;
  /** Decoded keyset position: rows strictly after (createdAt, id) in the list's order. */
  after: { createdAt: Date; id: string } | null;
}

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export function parsePage(args: PageArgs): Page {
  const first = args.first ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(first) || first < 0 || first > MAX_PAGE_SIZE) {
    throw badUserInput(`first must be between 0 and ${MAX_PAGE_SIZE}`, { field: 'first' });
  }
  return { take: first, after: args.after ? decodeCursor(args.after) : null };
}

export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime())) throw badUserInput('after is not a valid cursor', { field: 'after' });
  return { createdAt, id };
}

export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; endCursor: string | null };
}

/**
 * Builds a connection from rows fetched with `take + 1` (the extra row only tells whether a next page exists).
 */
export function toConnection<T extends { createdAt: Date; id: string }>(rows: T[], take: number): Connection<T> {
  const nodes = rows.slice(0, take);
  const edges = nodes.map((node) => ({ cursor: encodeCursor(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage: rows.length > take, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/**
 * Prisma `where` fragment for keyset paging in (createdAt, id) order. `direction` is the list's sort order.
 */
export function keysetWhere(after: Page['after'], direction: 'asc' | 'desc') {
  if (!after) return {};
  const cmp = direction === 'asc' ? 'gt' : 'lt';
  return {
    OR: [{ createdAt: { [cmp]: after.createdAt } }, { createdAt: after.createdAt, id: { [cmp]: after.id } }],
  };
}
