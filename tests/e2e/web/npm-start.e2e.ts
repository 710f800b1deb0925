// The web client against `npm start`'s platform, as a developer meets it: scripts/start.ts builds, migrates, seeds
// and runs every process (subgraphs, gateway, image worker, the DashScope, OSS and payment simulators, the web app's
// Vite development server) — here on free ports beside anything already running, on this run's database and Redis
// prefix. Then Chromium: sign up, an answer that visibly grows, a generation stopped halfway, two pictures painted by
// the image worker and shown in the gallery, credits bought through the cashier page with the balance changing, sign
// out. Screenshots: tests/artifacts/web/npm-start/.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import { freePort, spawnChild } from '../../src/processes.ts';
import { eventually, launchBrowser, screenshots, signUpInBrowser } from '../../src/browser.ts';
import { uniqueEmail } from '../../src/identity-helpers.ts';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PORT_VARIABLES = [
  'GATEWAY_PORT',
  'USER_SUBGRAPH_PORT',
  'CONVERSATION_SUBGRAPH_PORT',
  'IMAGE_SUBGRAPH_PORT',
  'BILLING_SUBGRAPH_PORT',
  'IMAGE_WORKER_PORT',
  'WEB_PORT',
  'DASHSCOPE_SIMULATOR_PORT',
  'OSS_SIMULATOR_PORT',
  'PAYMENT_SIMULATOR_PORT',
] as const;

let start: ChildProcess | undefined;
let output = '';
let webUrl: string;
let browser: Browser;
let page: Page;
const shot = screenshots('npm-start');

beforeAll(async () => {
  const ports: Record<string, string> = {};
  for (const name of PORT_VARIABLES) ports[name] = String(await freePort());
  webUrl = `http://localhost:${ports.WEB_PORT}`;
  // Its own process group, so that stopping it reaches every process it started (and killed with the test process).
  start = spawnChild(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    // Tokens 60 ms apart (the simulator's default is 30): slow enough to watch an answer grow and stop it halfway.
    env: { ...process.env, ...ports, NODE_ENV: 'development', LOG_PRETTY: 'false', LOG_LEVEL: 'warn', DASHSCOPE_SIMULATOR_TOKEN_DELAY_MS: '60' },
  });
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-20_000);
  };
  start.stdout!.on('data', collect);
  start.stderr!.on('data', collect);
  const exited = new Promise<never>((_, reject) => start!.once('exit', (code) => reject(new Error(`npm start exited (${code}) before it was up:\n${output}`))));
  const up = new Promise<void>((resolve) => {
    const check = () => (output.includes('Firefly AI is running') ? resolve() : setTimeout(check, 250));
    check();
  });
  await Promise.race([up, exited]);
  expect(output).toContain(`Web app                      ${webUrl}`);
  browser = await launchBrowser();
  page = await (await browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } })).newPage();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  if (start?.pid && start.exitCode === null) {
    const stopped = new Promise((resolve) => start!.once('exit', resolve));
    process.kill(-start.pid, 'SIGTERM');
    await Promise.race([stopped, new Promise((resolve) => setTimeout(resolve, 20_000))]);
    if (start.exitCode === null) process.kill(-start.pid, 'SIGKILL');
  }
}, 60_000);

describe('the web client on npm start', { timeout: 180_000 }, () => {
  it('signs up on the development server', async () => {
    await signUpInBrowser(page, webUrl, { email: uniqueEmail('npm-start'), displayName: 'Developer' });
    await shot(page, 'signed-up');
  });

  it('streams an answer that grows on screen', async () => {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { name: 'New conversation', level: 2 }).waitFor();
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Tell me about fireflies, in detail.');
    await composer.press('Enter');
    const answer = page.getByTestId('assistant-message').last();
    const lengths: number[] = [];
    for (let status = await answer.getAttribute('data-status'); status !== 'COMPLETED'; status = await answer.getAttribute('data-status')) {
      const text = (await answer.locator('.content').innerText()).trim();
      if (status === 'STREAMING' && text !== 'Writing…' && text.length > (lengths.at(-1) ?? 0)) {
        lengths.push(text.length);
        if (lengths.length <= 3) await shot(page, `streaming-${lengths.length}`);
      }
      await page.waitForTimeout(25);
    }
    expect(lengths.length).toBeGreaterThanOrEqual(3);
    await shot(page, 'answered');
  });

  it('stops a generation halfway and keeps the partial answer', async () => {
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Write a long essay about the summer night sky, with many details.');
    await composer.press('Enter');
    const answer = page.getByTestId('assistant-message').last();
    await eventually(async () => ((await answer.getAttribute('data-status')) === 'STREAMING' ? (await answer.locator('.content').innerText()).length : 0)).toBeGreaterThan(20);
    await page.getByRole('button', { name: '■ Stop' }).click();
    await eventually(() => answer.getAttribute('data-status')).toBe('STOPPED');
    expect(await answer.locator('.message-meta').innerText()).toContain('Stopped');
    expect((await answer.locator('.content').innerText()).trim().length).toBeGreaterThan(20);
    await shot(page, 'stopped');
  });

  it('paints two pictures with the image worker and shows both in the gallery', async () => {
    await page.getByRole('link', { name: 'Painting', exact: true }).click();
    await page.getByRole('heading', { name: 'Painting', level: 1 }).waitFor();
    await page.getByLabel('Describe the picture').fill('Fireflies over a lotus pond, watercolour');
    await page.getByLabel('Number of images').fill('2');
    await page.getByRole('button', { name: 'Paint', exact: true }).click();
    await page.getByTestId('image-job').first().waitFor();
    await shot(page, 'painting');
    const gallery = page.getByTestId('gallery').getByRole('img');
    await eventually(() => gallery.count(), { timeout: 60_000 }).toBe(2);
    // The pictures come from the OSS simulator and really load.
    for (const image of await gallery.all()) {
      await eventually(() => image.evaluate((img: { complete: boolean; naturalWidth: number }) => img.complete && img.naturalWidth > 0)).toBe(true);
      expect(await image.getAttribute('alt')).toBe('Painted from: Fireflies over a lotus pond, watercolour');
    }
    await shot(page, 'gallery');
  });

  it('buys credits on the payment simulator cashier page and shows the new balance', async () => {
    await page.getByRole('link', { name: 'Credits', exact: true }).click();
    await page.getByRole('button', { name: 'Buy credits: 100 积分' }).click();
    const [cashier] = await Promise.all([page.context().waitForEvent('page'), page.getByRole('link', { name: 'Open the payment page ↗' }).click()]);
    await cashier.getByRole('heading', { name: 'Alipay (simulator)' }).waitFor();
    await shot(cashier, 'cashier');
    await cashier.getByRole('button', { name: 'Pay' }).click();
    await eventually(() => cashier.locator('#message').innerText()).toContain('Paid.');
    await cashier.close();
    await eventually(() => page.getByTestId('pending-order').getByRole('status').innerText(), { timeout: 30_000 }).toBe('Payment received: 100 credits added.');
    // The purchase is in the history, and the balance shown is the balance after it.
    const purchase = page.getByTestId('ledger-row').filter({ hasText: 'Purchase' }).first();
    await eventually(() => purchase.locator('td').nth(2).innerText()).toBe('+100');
    const after = await purchase.locator('td').nth(3).innerText();
    await eventually(() => page.getByTestId('credits-available').innerText()).toBe(after);
    expect(Number(after)).toBeGreaterThanOrEqual(100);
    await shot(page, 'paid');
  });

  it('signs out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await shot(page, 'signed-out');
  });
});
