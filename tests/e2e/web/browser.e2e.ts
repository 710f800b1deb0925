// The reference web client in a real browser (Debian's Chromium, headless) against the whole platform: sign up,
// a conversation whose answer visibly grows token by token, stop, regenerate, the errors a person reads, sessions,
// credits, languages, sign out and in. Screenshots of every screen: tests/artifacts/web/platform/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, Page } from 'playwright-core';
import type { Supergraph } from '../../src/harness.ts';
import { ARTIFACTS_DIR, eventually, startWebSuite, type WebApp, type WebSuite } from '../../src/browser.ts';
import { STRONG_PASSWORD, uniqueEmail } from '../../src/identity-helpers.ts';
import { findUserByEmail } from '../../src/pii.ts';

let web: WebSuite;
let sg: Supergraph;
let app: WebApp;
let browser: Browser;
let page: Page;
let shot: WebSuite['shot'];
const email = uniqueEmail('browser');

beforeAll(async () => {
  // Tokens ~60 ms apart: slow enough to watch an answer grow and to stop it halfway.
  web = await startWebSuite('platform', { simulator: { tokenDelayMs: 60 } });
  ({ sg, app, browser, page, shot } = web);
}, 180_000);

afterAll(async () => {
  await web?.stop();
});

const assistantMessages = () => page.getByTestId('assistant-message');
const balance = () => web.balance();

/** Reads a streaming answer's text every 80 ms until it is no longer STREAMING; `onRead` sees each read. */
async function readStreamingAnswer(answer: ReturnType<Page['locator']>, onRead: (read: { status: string | null; length: number }) => Promise<void>) {
  const reads: Array<{ status: string | null; length: number }> = [];
  for (;;) {
    const status = await answer.getAttribute('data-status');
    const text = (await answer.locator('.content').innerText()).trim();
    const read = { status, length: text === 'Writing…' ? 0 : text.length };
    reads.push(read);
    await onRead(read);
    if (status !== 'STREAMING') return reads;
    await page.waitForTimeout(80);
  }
}

describe('the web client in a browser', { timeout: 90_000 }, () => {
  it('signs up with email and password and lands in chat with the sign-up credits', async () => {
    await page.goto(app.url);
    await eventually(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    await shot(page, 'sign-in');
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByLabel('Your name').fill('Browser Tester');
    await page.getByLabel('Email', { exact: true }).fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await shot(page, 'sign-up');
    await page.getByRole('button', { name: 'Create account' }).click();
    await eventually(() => page.getByTestId('balance').innerText()).toBe('100 credits');
    await shot(page, 'chat-empty');
  });

  it('creates a conversation with a model and parameters, and streams an answer that visibly grows', async () => {
    await page.getByRole('button', { name: '+ New conversation' }).click();
    const dialog = page.getByRole('dialog', { name: 'New conversation' });
    await eventually(() => dialog.isVisible()).toBe(true);
    await dialog.getByLabel('Title (optional)').fill('Fireflies');
    await dialog.getByLabel('Temperature').fill('0.5');
    await shot(page, 'new-conversation');
    await dialog.getByRole('button', { name: 'Create' }).click();
    await eventually(() => page.getByRole('heading', { name: 'Fireflies' }).isVisible()).toBe(true);
    expect(await page.getByText('Temperature 0.5').isVisible()).toBe(true);

    const composer = page.getByLabel('Message', { exact: true });
    const composerTop = (await composer.boundingBox())!.y;
    await composer.fill('Why do fireflies glow? Tell me in detail.');
    await composer.press('Enter');

    const answer = assistantMessages().last();
    await eventually(() => answer.getAttribute('data-status')).toBe('STREAMING');
    let screenshotsTaken = 0;
    let longest = 0;
    const reads = await readStreamingAnswer(answer, async ({ status, length }) => {
      if (status !== 'STREAMING' || length <= longest) return;
      longest = length;
      if (screenshotsTaken < 3) {
        screenshotsTaken += 1;
        await shot(page, `streaming-${screenshotsTaken}`);
      }
      // Nothing else on the page moves while the answer grows.
      expect((await composer.boundingBox())!.y).toBe(composerTop);
    });
    const distinct = [...new Set(reads.filter((r) => r.status === 'STREAMING' && r.length > 0).map((r) => r.length))];
    // At least three different, ever longer texts were on screen before the answer was complete.
    expect(distinct.length).toBeGreaterThanOrEqual(3);
    expect(distinct).toEqual([...distinct].sort((a, b) => a - b));
    expect(screenshotsTaken).toBe(3);
    await eventually(() => answer.getAttribute('data-status')).toBe('COMPLETED');
    expect((await answer.locator('.content').innerText()).trim().length).toBeGreaterThanOrEqual(distinct.at(-1)!);
    // The answer was charged, and the header's balance followed.
    await eventually(balance).toBeLessThan(100);
    expect((await composer.boundingBox())!.y).toBe(composerTop);
    await shot(page, 'answer-complete');
  });

  it('stops a generation halfway and keeps the partial answer', async () => {
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Write a long essay about the summer night sky, with many details.');
    await composer.press('Enter');
    const answer = assistantMessages().last();
    await eventually(async () => ((await answer.getAttribute('data-status')) === 'STREAMING' ? (await answer.locator('.content').innerText()).length : 0)).toBeGreaterThan(20);
    await page.getByRole('button', { name: '■ Stop' }).click();
    await eventually(() => answer.getAttribute('data-status')).toBe('STOPPED');
    expect(await answer.locator('.message-meta').innerText()).toContain('Stopped');
    const partial = await answer.locator('.content').innerText();
    expect(partial.length).toBeGreaterThan(0);
    await shot(page, 'stopped');

    // Reloading shows the same partial answer, as stored.
    await page.reload();
    await eventually(() => assistantMessages().last().locator('.content').innerText()).toBe(partial);
  });

  it('regenerates the last answer as a new message', async () => {
    const before = await assistantMessages().count();
    await page.getByRole('button', { name: '↻ Regenerate' }).click();
    await eventually(() => assistantMessages().count()).toBe(before + 1);
    await eventually(() => assistantMessages().last().getAttribute('data-status')).toBe('COMPLETED');
  });

  it('renames and deletes a conversation from the list with the keyboard', async () => {
    await page.getByRole('button', { name: 'Rename: Fireflies' }).focus();
    await page.keyboard.press('Enter');
    const input = page.getByLabel('New title for “Fireflies”');
    await input.fill('Glow worms');
    await page.keyboard.press('Enter');
    await eventually(() => page.getByRole('heading', { name: 'Glow worms' }).isVisible()).toBe(true);

    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Delete: Glow worms' }).click();
    await eventually(() => page.getByText('No conversations yet.').isVisible()).toBe(true);
  });

  it('says in words what is wrong when credits run out, and offers to buy more', async () => {
    const user = await findUserByEmail(sg.db, email);
    await sg.db.creditAccount.updateMany({ where: { userId: user.id }, data: { available: 0 } });
    await page.getByRole('button', { name: '+ New conversation' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Hello?');
    await composer.press('Enter');
    const alert = page.getByRole('alert');
    await eventually(() => alert.innerText()).toContain('You do not have enough credits for this.');
    expect(await alert.innerText()).not.toMatch(/INSUFFICIENT_CREDITS|Error:|at /);
    await shot(page, 'insufficient-credits');
    await alert.getByRole('button', { name: 'Buy credits' }).click();
    await eventually(() => page.getByRole('heading', { name: 'Credits', level: 1 }).isVisible()).toBe(true);
  });

  it('shows the balance and the ledger', async () => {
    await eventually(() => page.getByTestId('credits-available').innerText()).toBe('0');
    const rows = page.getByTestId('ledger-row');
    await eventually(() => rows.count()).toBeGreaterThanOrEqual(3);
    const texts = await rows.allInnerTexts();
    expect(texts.some((t) => t.includes('Welcome credits') && t.includes('+100'))).toBe(true);
    expect(texts.some((t) => t.includes('Chat'))).toBe(true);
    await shot(page, 'credits');
  });

  it('lists sessions, this browser marked', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    await eventually(() => page.getByTestId('session-row').count()).toBe(1);
    expect(await page.getByTestId('session-row').innerText()).toContain('This browser');
    await shot(page, 'sessions');
  });

  it('follows the chosen language, Chinese included', async () => {
    await page.getByLabel('Language').first().selectOption('zh');
    await eventually(() => page.getByRole('link', { name: '对话' }).isVisible()).toBe(true);
    expect(await page.locator('html').getAttribute('lang')).toBe('zh-CN');
    await shot(page, 'sessions-zh');
    await page.getByLabel('语言').first().selectOption('en');
  });

  it('signs out, stays signed out after a reload, and signs in again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await eventually(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    await page.reload();
    await eventually(() => page.getByRole('heading', { name: 'Sign in' }).isVisible()).toBe(true);
    await shot(page, 'signed-out');
    await page.getByLabel('Email or phone').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(STRONG_PASSWORD);
    await page.getByLabel('Password', { exact: true }).press('Enter');
    await eventually(() => page.getByTestId('balance').isVisible()).toBe(true);
  });

  it('opens in Chinese for a browser that prefers Chinese', async () => {
    const zh = await browser.newContext({ locale: 'zh-CN' });
    const zhPage = await zh.newPage();
    await zhPage.goto(app.url);
    await eventually(() => zhPage.getByRole('heading', { name: '登录' }).isVisible()).toBe(true);
    await zhPage.screenshot({ path: `${ARTIFACTS_DIR}platform/99-sign-in-zh.png` });
    await zh.close();
  });
});
