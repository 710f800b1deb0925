// The app's operations as they leave Apollo Client, checked against the committed persisted query manifest: the
// id the client sends is the manifest's id, and the text it sends when the server asks for it is exactly the
// manifest's body, whose sha256 is that id — so a gateway holding the manifest recognises every operation.
import { createHash } from 'node:crypto';
import { ApolloClient, ApolloLink, InMemoryCache, type TypedDocumentNode } from '@apollo/client';
import { print } from 'graphql';
import { Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import manifest from '../../../persisted-query-manifest.json' with { type: 'json' };
import * as documents from '../../generated/graphql/graphql.ts';
import { persistedQueryIdsFromManifest, sortTopLevelDefinitions } from '../persisted-ids.ts';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** What the client's link chain sees for an operation, after the app's own document transforms. */
async function sentText(document: TypedDocumentNode, type: string): Promise<string> {
  let text = '';
  const client = new ApolloClient({
    documentTransform: sortTopLevelDefinitions,
    cache: new InMemoryCache(),
    link: new ApolloLink((operation) => {
      text = print(operation.query);
      return new Observable((observer) => {
        observer.next({ data: null });
        observer.complete();
      });
    }),
  });
  if (type === 'query') await client.query({ query: document, fetchPolicy: 'no-cache' }).catch(() => undefined);
  else if (type === 'mutation') await client.mutate({ mutation: document, fetchPolicy: 'no-cache' }).catch(() => undefined);
  else await new Promise<void>((resolve) => client.subscribe({ query: document, fetchPolicy: 'no-cache' }).subscribe({ next: () => resolve(), error: () => resolve(), complete: () => resolve() }));
  return text;
}

describe('persisted query manifest', () => {
  const generated = documents as unknown as Record<string, TypedDocumentNode | undefined>;

  it('has one operation per document of the app, and nothing else', () => {
    const names = Object.keys(generated)
      .filter((key) => key.endsWith('Document') && generated[key]?.definitions.some((d) => d.kind === 'OperationDefinition'))
      .map((key) => key.replace(/Document$/, ''))
      .sort();
    expect(manifest.operations.map((o) => o.name).sort()).toEqual(names);
  });

  for (const operation of manifest.operations) {
    it(`${operation.name}: id = sha256(body), and the client sends that id and that exact body`, async () => {
      const document = generated[`${operation.name}Document`]!;
      expect(operation.id).toBe(sha256(operation.body));
      expect(await persistedQueryIdsFromManifest(() => manifest).generateHash(document)).toBe(operation.id);
      expect(await sentText(document, operation.type)).toBe(operation.body);
    });
  }

  it('refuses an operation the manifest does not know, rather than sending an id no server has', async () => {
    const ids = persistedQueryIdsFromManifest(() => ({ operations: [] }));
    await expect(ids.generateHash(documents.ViewerDocument)).rejects.toThrow(/Viewer is not in the persisted query manifest/);
  });
});
