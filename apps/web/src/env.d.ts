/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** The GraphQL endpoint (WEB_GRAPHQL_URL at build time); relative URLs resolve against the page. */
  readonly FIREFLY_GRAPHQL_URL: string;
}
