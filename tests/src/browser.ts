// Browser tests: Debian's Chromium driven by playwright-core (no browser download), the web app built once per
// file and served by Vite's preview server in front of a harness gateway, screenshots kept as test artefacts.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { buildWeb, startPreviewServer, type WebServer } from '@firefly/web/server';

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
  await buildWeb(outDir);
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
