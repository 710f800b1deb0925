// Browser tests: Debian's Chromium driven by playwright-core (no browser download), the web app built once per
// file and served by Vite's preview server in front of a harness gateway, screenshots kept as test artefacts.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { expect } from 'vitest';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { startPreviewServer, type WebServer } from '@firefly/web/server';
import { startSupergraph, type Supergraph } from './harness.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';
import { STRONG_PASSWORD } from './identity-helpers.ts';

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
async function serveBuiltApp(gatewayUrl: string): Promise<WebApp> {
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

/** Polls until the value matches; generous, because CI shares two cores with everything else. */
export const eventually = <T>(read: () => Promise<T> | T, options: { timeout?: number } = {}) => expect.poll(read, { timeout: options.timeout ?? 20_000, interval: 100 });

/** One browser test file's world: the platform, the built app in front of it, Chromium with one English page. */
export interface WebSuite<S extends Supergraph = Supergraph> {
  sg: S;
  app: WebApp;
  browser: Browser;
  context: BrowserContext;
  page: Page;
  /** Numbered screenshots into tests/artifacts/web/<suite>/. */
  shot: (page: Page, name: string) => Promise<void>;
  /**
   * With `gatewayProxy`: the TCP proxy between the app's server and the gateway. `setDown(true)` resets every
   * connection through it (the app's graphql-ws socket too), as a gateway that went away would.
   */
  gatewayProxy?: TcpProxy;
  /** The credits shown in the header. */
  balance(): Promise<number>;
  /** Writes what the browser saw go wrong beside the screenshots, closes everything. */
  stop(): Promise<void>;
}

/** `platform` starts something other than the plain harness supergraph (e.g. the identity one, with the SMS double). */
/** `gatewayProxy`: the app reaches the gateway through a TCP proxy the test can take down (WebSuite.gatewayProxy). */
export interface WebSuiteOptions {
  gatewayProxy?: boolean;
}

export async function startWebSuite(suite: string, options?: Parameters<typeof startSupergraph>[0], suiteOptions?: WebSuiteOptions): Promise<WebSuite>;
export async function startWebSuite<S extends Supergraph>(suite: string, platform: () => Promise<S>, suiteOptions?: WebSuiteOptions): Promise<WebSuite<S>>;
export async function startWebSuite(
  suite: string,
  how: Parameters<typeof startSupergraph>[0] | (() => Promise<Supergraph>) = {},
  suiteOptions: WebSuiteOptions = {},
): Promise<WebSuite> {
  const shot = screenshots(suite);
  const sg = typeof how === 'function' ? await how() : await startSupergraph(how);
  const gatewayProxy = suiteOptions.gatewayProxy ? await startTcpProxy(sg.gatewayUrl) : undefined;
  const [app, browser] = await Promise.all([serveBuiltApp(gatewayProxy?.url ?? sg.gatewayUrl), launchBrowser()]);
  const context = await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  // What the browser saw go wrong, kept beside the screenshots for whoever reads a failure.
  const log: string[] = [];
  page.on('console', (message) => message.type() === 'error' && log.push(`console: ${message.text()}`));
  page.on('requestfailed', (request) => log.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`));
  page.on('response', (response) => response.status() >= 400 && log.push(`HTTP ${response.status()}: ${response.request().method()} ${response.url()}`));
  return {
    sg,
    app,
    browser,
    context,
    page,
    shot,
    gatewayProxy,
    balance: async () => Number((await page.getByTestId('balance').innerText()).replace(/[^\d]/g, '')),
    async stop() {
      writeFileSync(join(ARTIFACTS_DIR, suite, 'browser.log'), `${log.join('\n')}\n`);
      await browser.close();
      await app.stopAll();
      await gatewayProxy?.close();
      await sg.stop();
    },
  };
}

/** Creates an account through the sign-up form and waits for the signed-in header (sign-up credits shown). */
export async function signUpInBrowser(page: Page, appUrl: string, account: { email: string; displayName: string }): Promise<void> {
  await page.goto(appUrl);
  await page.getByRole('button', { name: 'New here? Create an account' }).click();
  await page.getByLabel('Your name').fill(account.displayName);
  await page.getByLabel('Email', { exact: true }).fill(account.email);
  await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
  await page.getByRole('button', { name: 'Create account' }).click();
  // Locator waits, not expect.poll: this runs in beforeAll hooks too.
  await page.getByTestId('balance').filter({ hasText: /^[\d,]+ credits$/ }).waitFor({ timeout: 30_000 });
}

/** Reads a QR code on screen as a phone's camera would: a screenshot of the element, decoded by jsQR. */
export async function scanQrCode(element: Locator): Promise<string> {
  const png = PNG.sync.read(await element.screenshot());
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.byteLength), png.width, png.height);
  if (!code) throw new Error('no QR code could be read from the element');
  return code.data;
}
