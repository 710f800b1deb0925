// The part of make-fetch-happen (the fetcher @apollo/gateway's RemoteGraphQLDataSource uses by default) that we
// call. Its DefinitelyTyped package pulls in the DOM lib, which breaks Node's stream types across the workspace.
declare module 'make-fetch-happen' {
  interface FetchDefaults {
    maxSockets?: number;
    retry?: boolean | { retries?: number };
    /** Milliseconds before the request fails. */
    timeout?: number;
  }
  const fetch: { defaults(options: FetchDefaults): unknown };
  export default fetch;
}
