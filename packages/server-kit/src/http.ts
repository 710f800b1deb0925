import type { Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Starts listening and resolves with the GraphQL URL. Port 0 picks a free port. */
export function listenForGraphQL(httpServer: HttpServer, port: number, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    httpServer.once('error', reject);
    httpServer.listen(port, host, () => {
      httpServer.off('error', reject);
      const address = httpServer.address() as AddressInfo;
      resolve(`http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${address.port}/graphql`);
    });
  });
}

/**
 * A stop function that runs once however often it is called: Apollo's own stop (which drains the HTTP server
 * through ApolloServerPluginDrainHttpServer), closing the listener if still open, then the owner's clean-up.
 */
export function createStopper(httpServer: HttpServer, stopApollo: () => Promise<void>, onStop?: () => Promise<void>): () => Promise<void> {
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= (async () => {
      await stopApollo();
      if (httpServer.listening) await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await onStop?.();
    })();
    return stopping;
  };
}
