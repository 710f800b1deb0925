// GraphQL Code Generator schema loader: the public API schema clients see, derived from the committed
// supergraph (join__ and link__ machinery removed, @inaccessible types and fields hidden), exactly as the
// gateway serves it.
import { readFileSync } from 'node:fs';
import { Supergraph } from '@apollo/federation-internals';

export default function loadApiSchema(path) {
  return Supergraph.build(readFileSync(path, 'utf8')).apiSchema().toGraphQLJSSchema();
}
