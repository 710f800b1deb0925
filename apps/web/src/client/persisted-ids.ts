/**
 * Operation ids from the committed persisted query manifest (`persisted-query-manifest.json`, written by
 * `@apollo/generate-persisted-query-manifest`): the client sends `extensions.persistedQuery.sha256Hash` = the
 * manifest's id for the operation's name, and the text only if the server asks for it.
 *
 * This is what `@apollo/persisted-query-lists`' `generatePersistedQueryIdsFromManifest` does; that package ships
 * CommonJS only, and bundling it pulls a second, whole copy of graphql-js and Apollo Client into the app (≈ 400 kB
 * minified), so the twenty lines live here.
 */
import { DocumentTransform } from '@apollo/client';
import type { DefinitionNode, DocumentNode } from 'graphql';

export interface ManifestIds {
  operations: ReadonlyArray<{ id: string; name: string }>;
}

export function persistedQueryIdsFromManifest(loadManifest: () => ManifestIds | Promise<ManifestIds>) {
  const idsByName = Promise.resolve()
    .then(loadManifest)
    .then((manifest) => new Map(manifest.operations.map(({ name, id }) => [name, id])));
  idsByName.catch(() => undefined);
  return {
    async generateHash(document: DocumentNode): Promise<string> {
      const operations = document.definitions.filter((d) => d.kind === 'OperationDefinition');
      const name = operations.length === 1 ? operations[0]!.name?.value : undefined;
      if (!name) throw new Error('Persisted operations must be one named operation per document');
      const id = (await idsByName).get(name);
      if (id === undefined) throw new Error(`Operation ${name} is not in the persisted query manifest (run npm run build -w @firefly/web)`);
      return id;
    },
  };
}

const nameOf = (definition: DefinitionNode) =>
  definition.kind === 'OperationDefinition' || definition.kind === 'FragmentDefinition' ? (definition.name?.value ?? '') : '';

/**
 * Orders a document's definitions as the manifest generator does before hashing (operation first, then fragments
 * by name), so the text sent after PERSISTED_QUERY_NOT_FOUND is byte for byte the manifest's body and its sha256
 * is the id.
 */
export const sortTopLevelDefinitions = new DocumentTransform((document) => ({
  ...document,
  definitions: [...document.definitions].sort((a, b) => {
    if (a.kind !== b.kind) return a.kind > b.kind ? -1 : 1;
    return nameOf(a) < nameOf(b) ? -1 : nameOf(a) > nameOf(b) ? 1 : 0;
  }),
}));
