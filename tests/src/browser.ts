// Browser tests: Debian's Chromium driven by playwright-core (no browser download), the web app built once per
// file and served by Vite's preview server in front of a harness gateway, screenshots kept as test artefacts.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startPreviewServer, type WebServer } from '@firefly/web/server';

const WEB_DIR = fileURLToPath(new URL('../../apps/web/', import.meta.url));

/** Where screenshots go (gitignored): tests/artifacts/web/<suite>/NN-name.png. */
export const ARTIFACTS_DIR = fileURLToPath(new URL('../artifacts/web/', import.meta.url));

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Headless Chromium as root on a machine without internet: no sandbox, no background calls home. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export interface WebApp extends WebServer {
  stopAll(): Promise<void>;
}

/** Builds the app into a temporary folder and serves it, forwarding /graphql to `gatewayUrl`. */
export async function serveBuiltApp(gatewayUrl: string): Promise<WebApp> {
  const outDir = mkdtempSync(join(tmpdir(), 'firefly-web-'));
  // Built in a process of its own with NODE_ENV=production, as `npm run build` builds it (vitest's NODE_ENV=test
  // would otherwise give React's and Apollo's development builds).
  const vite = join(dirname(createRequire(join(WEB_DIR, 'package.json')).resolve('vite')), '..', '..', 'bin', 'vite.js');
  await promisify(execFile)(process.execPath, [vite, 'build', '--configLoader', 'runner', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: WEB_DIR,
    env: { ...process.env, NODE_ENV: 'production' },
  });
  const server = await startPreviewServer({ outDir, gatewayUrl });
  return {
    ...server,
    async stopAll() {
      await server.close();
      rmSync(outDir, { recursive: true, force: true });
    },
  };
}

/** Saves numbered screenshots of one suite: `shot(page, 'sign-in')` → 01-sign-in.png. */
export function screenshots(suite: string) {
  const dir = join(ARTIFACTS_DIR, suite);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let n = 0;
  return async (page: Page, name: string) => {
    n += 1;
    await page.screenshot({ path: join(dir, `${String(n).padStart(2, '0')}-${name}.png`), fullPage: false });
  };
}
