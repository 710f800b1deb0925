// GraphQL Code Generator: typed documents for every operation in src/graphql/*.graphql, checked against the
// public API schema of the committed supergraph. The output (src/generated/graphql/) is committed;
// `npm run codegen:check -w @firefly/web` fails when it is stale.
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: { '../../schema/supergraph.graphql': { loader: './scripts/api-schema-loader.mjs' } } as never,
  documents: ['src/graphql/**/*.graphql'],
  ignoreNoDocuments: false,
  generates: {
    'src/generated/graphql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        scalars: { DateTime: 'string', JSON: 'unknown' },
        strictScalars: true,
        enumsAsTypes: true,
        useTypeImports: true,
        skipTypename: false,
        nonOptionalTypename: false,
      },
    },
  },
};

export default config;
