import { gzipSync } from 'node:zlib';
import { defineConfig, type Plugin } from 'vite';
import react from '@vitejs/plugin-react';
import { loadWebConfig } from './config.ts';

const config = loadWebConfig();

/** `npm start` and the test harness wait for GET /healthz, as they do for every other process. */
const healthz = (): Plugin => {
  // Returns nothing: a function returned from these hooks would be run as a post-middleware hook.
  const answer = (server: { middlewares: { use: (path: string, handler: (req: unknown, res: { setHeader(k: string, v: string): void; end(body: string): void }) => void) => unknown } }): void => {
    server.middlewares.use('/healthz', (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status: 'ok', service: 'web' }));
    });
  };
  return { name: 'firefly-healthz', configureServer: answer, configurePreviewServer: answer };
};

/** Prints the production bundle's size (raw and gzip, JS and CSS) and writes it to dist/bundle-size.json. */
const bundleSize = (): Plugin => ({
  name: 'firefly-bundle-size',
  apply: 'build',
  generateBundle(_options, bundle) {
    const totals = { js: 0, jsGzip: 0, css: 0, cssGzip: 0, initialJs: 0, initialJsGzip: 0 };
    for (const file of Object.values(bundle)) {
      if (file.fileName.endsWith('.map')) continue;
      const source = file.type === 'chunk' ? file.code : file.source;
      const bytes = Buffer.byteLength(source);
      const gzip = gzipSync(source).byteLength;
      if (file.fileName.endsWith('.js')) {
        totals.js += bytes;
        totals.jsGzip += gzip;
        if (file.type === 'chunk' && file.isEntry) {
          totals.initialJs += bytes;
          totals.initialJsGzip += gzip;
        }
      } else if (file.fileName.endsWith('.css')) {
        totals.css += bytes;
        totals.cssGzip += gzip;
      }
    }
    const kb = (n: number) => `${(n / 1000).toFixed(1)} kB`;
    this.info(
      `bundle size: JS ${kb(totals.js)} (gzip ${kb(totals.jsGzip)}), of which the entry ${kb(totals.initialJs)} (gzip ${kb(totals.initialJsGzip)}); CSS ${kb(totals.css)} (gzip ${kb(totals.cssGzip)})`,
    );
    this.emitFile({ type: 'asset', fileName: 'bundle-size.json', source: `${JSON.stringify(totals, null, 2)}\n` });
  },
});

export default defineConfig({
  plugins: [react(), healthz(), bundleSize()],
  define: {
    'import.meta.env.FIREFLY_GRAPHQL_URL': JSON.stringify(config.WEB_GRAPHQL_URL),
  },
  server: {
    port: config.WEB_PORT,
    strictPort: true,
    host: '127.0.0.1',
    proxy: {
      '/graphql': { target: config.WEB_GATEWAY_URL, ws: true },
    },
  },
  build: {
    target: 'es2022',
    sourcemap: true,
    chunkSizeWarningLimit: 600,
  },
});
