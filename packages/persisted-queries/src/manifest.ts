import { createHash } from 'node:crypto';
import { badUserInput, type AppError } from '@firefly/errors';

/** `format` of Apollo's persisted query manifest, as `@apollo/generate-persisted-query-manifest` writes it. */
export const MANIFEST_FORMAT = 'apollo-persisted-query-manifest';

export type OperationType = 'query' | 'mutation' | 'subscription';

/** One operation of a manifest: `id` is the hex sha256 of `body`. */
export interface ManifestOperation {
  id: string;
  name: string;
  type: OperationType;
  body: string;
}

export interface Manifest {
  format: typeof MANIFEST_FORMAT;
  version: 1;
  operations: ManifestOperation[];
}

/** Operations one list may hold (a partner's integration, not a whole app; keeps every replica's memory bounded). */
export const MAX_LIST_OPERATIONS = 1_000;

const OPERATION_TYPES = new Set<string>(['query', 'mutation', 'subscription']);
const HEX_SHA256 = /^[0-9a-f]{64}$/;

/** Hex sha256 of an operation's body: its id in the manifest and in Apollo's `persistedQuery.sha256Hash`. */
export function operationId(body: string): string {
  return createHash('sha256').update(body, 'utf8').digest('hex');
}

/**
 * Checks a manifest's shape: Apollo's format and version, an `operations` array of at most MAX_LIST_OPERATIONS
 * entries, each with a string `name`, a `type` of query/mutation/subscription, a non-empty `body` and an `id` that is
 * the hex sha256 of that body, no id twice. Returns the manifest reduced to those fields, or every problem found
 * (each naming the operation, for the admin who publishes). Whether the bodies are valid GraphQL for the supergraph
 * is the gateway's to check (it holds the schema and the document limits).
 */
export function parseManifest(value: unknown): { manifest: Manifest } | { problems: string[] } {
  if (!isObject(value)) return { problems: ['the manifest must be a JSON object'] };
  const problems: string[] = [];
  if (value.format !== MANIFEST_FORMAT) problems.push(`format must be "${MANIFEST_FORMAT}"`);
  if (value.version !== 1) problems.push('version must be 1');
  if (!Array.isArray(value.operations)) return { problems: [...problems, 'operations must be an array'] };
  if (value.operations.length > MAX_LIST_OPERATIONS) return { problems: [...problems, `a list holds at most ${MAX_LIST_OPERATIONS} operations`] };
  const operations: ManifestOperation[] = [];
  const seen = new Set<string>();
  value.operations.forEach((entry: unknown, index) => {
    const where = `operations[${index}]`;
    if (!isObject(entry)) return void problems.push(`${where} must be an object`);
    const { id, name, type, body } = entry;
    const label = typeof name === 'string' ? `${where} (${name.slice(0, 100)})` : where;
    if (typeof name !== 'string' || name === '') problems.push(`${where}: name must be a non-empty string`);
    if (typeof type !== 'string' || !OPERATION_TYPES.has(type)) problems.push(`${label}: type must be query, mutation or subscription`);
    if (typeof body !== 'string' || body.trim() === '') return void problems.push(`${label}: body must be a non-empty string`);
    if (typeof id !== 'string' || !HEX_SHA256.test(id)) return void problems.push(`${label}: id must be the hex sha256 of the body`);
    if (id !== operationId(body)) return void problems.push(`${label}: id ${id} is not the sha256 of its body (${operationId(body)})`);
    if (seen.has(id)) return void problems.push(`${label}: id ${id} appears twice`);
    seen.add(id);
    if (typeof name === 'string' && typeof type === 'string' && OPERATION_TYPES.has(type)) operations.push({ id, name, type: type as OperationType, body });
  });
  return problems.length > 0 ? { problems } : { manifest: { format: MANIFEST_FORMAT, version: 1, operations } };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems named in the message of a refused manifest (`problemCount` says how many there were in all). */
const PROBLEMS_SHOWN = 5;

/** The BAD_USER_INPUT a refused manifest gets, at the gateway and in the user subgraph alike. */
export function manifestRefused(problems: readonly string[]): AppError {
  const more = problems.length > PROBLEMS_SHOWN ? `; and ${problems.length - PROBLEMS_SHOWN} more` : '';
  return badUserInput(`The manifest is refused: ${problems.slice(0, PROBLEMS_SHOWN).join('; ')}${more}`, { field: 'manifest', problemCount: problems.length });
}
