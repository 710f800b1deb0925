/**
 * Serving the app outside `vite` on the command line: the development server `npm start` runs, and a built copy
 * behind a preview server for the browser tests. Both forward /graphql (HTTP and graphql-ws) to a gateway, so the
 * app and the API share one origin, as behind a production reverse proxy.
 */
import { fileURLToPath } from 'node:url';
import { createServer, preview, type InlineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));
const base: InlineConfig = { root, configFile: fileURLToPath(new URL('vite.config.ts', import.meta.url)), configLoader: 'runner' };

export interface WebServer {
  url: string;
  close(): Promise<void>;
}

const proxyTo = (gatewayUrl: string) => ({ '/graphql': { target: new URL(gatewayUrl).origin, ws: true } });

/** The Vite development server (hot reload), as `npm start` runs it. */
export async function startDevServer(options: { port?: number; gatewayUrl?: string } = {}): Promise<WebServer> {
  const server = await createServer({
    ...base,
    server: { ...(options.port !== undefined ? { port: options.port } : {}), ...(options.gatewayUrl ? { proxy: proxyTo(options.gatewayUrl) } : {}) },
  });
  await server.listen();
  server.printUrls();
  return { url: server.resolvedUrls?.local[0] ?? `http://127.0.0.1:${server.config.server.port}/`, close: () => server.close() };
}

/** Serves a production build from `outDir` on a free port, forwarding /graphql to `gatewayUrl`. */
export async function startPreviewServer(options: { outDir: string; gatewayUrl: string; port?: number }): Promise<WebServer> {
  const server = await preview({
    ...base,
    logLevel: 'warn',
    build: { outDir: options.outDir },
    preview: { port: options.port ?? 0, strictPort: true, host: '127.0.0.1', proxy: proxyTo(options.gatewayUrl) },
  });
  const address = server.httpServer.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return { url: `http://127.0.0.1:${port}/`, close: () => server.close() };
}
