import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { manifestRefused, MAX_LIST_OPERATIONS, operationId, parseManifest } from '../index.ts';

const body = 'query Me {\n  me {\n    id\n    __typename\n  }\n}';
const operation = { id: operationId(body), name: 'Me', type: 'query', body };
const manifest = (operations: unknown[]) => ({ format: 'apollo-persisted-query-manifest', version: 1, operations });
const problemsOf = (value: unknown) => {
  const result = parseManifest(value);
  return 'problems' in result ? result.problems : [];
};

describe('parseManifest', () => {
  it('accepts what @apollo/generate-persisted-query-manifest writes (the committed example)', () => {
    const example = JSON.parse(readFileSync(new URL('../../../../schema/operations/partner-example.manifest.json', import.meta.url), 'utf8')) as unknown;
    const result = parseManifest(example);
    expect('manifest' in result && result.manifest.operations.map((o) => o.name)).toEqual(['ChatModels', 'Conversation', 'Dashboard', 'StartConversation']);
  });

  it('keeps only the four fields of each operation', () => {
    const result = parseManifest(manifest([{ ...operation, extra: 'ignored' }]));
    expect(result).toEqual({ manifest: manifest([operation]) });
  });

  it('refuses another format or version', () => {
    expect(problemsOf({ ...manifest([operation]), format: 'relay' })).toEqual(['format must be "apollo-persisted-query-manifest"']);
    expect(problemsOf({ ...manifest([operation]), version: 2 })).toEqual(['version must be 1']);
    expect(problemsOf([operation])).toEqual(['the manifest must be a JSON object']);
    expect(problemsOf({ format: 'apollo-persisted-query-manifest', version: 1 })).toEqual(['operations must be an array']);
  });

  it('refuses an id that is not the sha256 of its body, naming the operation', () => {
    const altered = { ...operation, body: `${body} ` };
    expect(problemsOf(manifest([altered]))).toEqual([`operations[0] (Me): id ${operation.id} is not the sha256 of its body (${operationId(altered.body)})`]);
    expect(problemsOf(manifest([{ ...operation, id: operation.id.toUpperCase() }]))).toEqual(['operations[0] (Me): id must be the hex sha256 of the body']);
  });

  it('refuses a missing name, a wrong type, an empty body, an id twice', () => {
    expect(problemsOf(manifest([{ ...operation, name: '' }]))).toEqual(['operations[0]: name must be a non-empty string']);
    expect(problemsOf(manifest([{ ...operation, type: 'fragment' }]))).toEqual(['operations[0] (Me): type must be query, mutation or subscription']);
    expect(problemsOf(manifest([{ ...operation, body: ' ' }]))).toEqual(['operations[0] (Me): body must be a non-empty string']);
    expect(problemsOf(manifest([operation, operation]))).toEqual([`operations[1] (Me): id ${operation.id} appears twice`]);
  });

  it('refuses more operations than a list holds', () => {
    expect(problemsOf(manifest(Array.from({ length: MAX_LIST_OPERATIONS + 1 }, () => operation)))).toEqual([`a list holds at most ${MAX_LIST_OPERATIONS} operations`]);
  });

  it('a refusal is BAD_USER_INPUT naming the first problems and counting all', () => {
    const error = manifestRefused(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
    expect(error.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'manifest', problemCount: 7 });
    expect(error.message).toBe('The manifest is refused: a; b; c; d; e; and 2 more');
  });
});
