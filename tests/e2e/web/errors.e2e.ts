// Errors as a person reads them, in a real browser (Debian's Chromium, headless) against the whole platform: a
// throttled sign-in counts down to when it may be tried again, a refused prompt says so, a model service that is
// down and a platform service that is down are named — never a raw code or a stack. Screenshots:
// tests/artifacts/web/errors/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { eventually, signUpInBrowser, startWebSuite, type WebSuite } from '../../src/browser.ts';
import { STRONG_PASSWORD, uniqueEmail } from '../../src/identity-helpers.ts';

let web: WebSuite;
let page: Page;
const email = uniqueEmail('errors');
/** What must never be on screen: codes, upstream codes, stack frames. */
const RAW = /[A-Z]{2,}_[A-Z_]+|DataInspection|InternalError|ModelUnavailable|Error:|\bat \S+:\d+/;

beforeAll(async () => {
  // Two wrong passwords throttle the account for 6 s: short enough to watch the countdown reach zero.
  web = await startWebSuite('errors', { env: { LOGIN_MAX_FAILURES_PER_ACCOUNT: '2', LOGIN_ACCOUNT_WINDOW_SECONDS: '6' } });
  page = web.page;
  await signUpInBrowser(page, web.app.url, { email, displayName: 'Errors' });
}, 180_000);

afterAll(async () => {
  await web?.stop();
});

async function signIn(password: string) {
  await page.getByLabel('Email or phone').fill(email);
  await page.getByLabel('Password', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
}

async function ask(question: string) {
  const before = page.url();
  await page.getByRole('button', { name: '+ New conversation' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  // The new conversation's view replaces the current one when the address changes: type only into the new one.
  await eventually(() => page.url()).not.toBe(before);
  const composer = page.getByLabel('Message', { exact: true });
  await composer.fill(question);
  await composer.press('Enter');
  const answer = page.getByTestId('assistant-message').last();
  await eventually(() => answer.getAttribute('data-status')).toBe('FAILED');
  return answer.locator('.message-meta');
}

describe('errors a person understands, in a browser', { timeout: 90_000 }, () => {
  it('says when a refused prompt was refused by the content check', async () => {
    // The DashScope simulator's input moderation refuses messages with this trigger.
    const footer = await ask('sim:inspection tell me something forbidden');
    expect(await footer.innerText()).toBe('The content safety check refused this prompt. Please rephrase it and try again.');
    expect(await page.locator('main').innerText()).not.toMatch(RAW);
    await web.shot(page, 'content-rejected');
  });

  it('names the AI model provider when it is down', async () => {
    web.sg.simulator.setFaults([{ kind: 'serverError', status: 503 }]);
    try {
      const footer = await ask('Hello, is anyone there?');
      expect(await footer.innerText()).toBe('The AI model provider is unavailable right now. Please try again in a moment.');
      expect(await page.locator('main').innerText()).not.toMatch(RAW);
      await web.shot(page, 'model-down');
    } finally {
      web.sg.simulator.setFaults([]);
    }
  });

  it('says the AI model provider is busy from the answer\'s error code, after a reload and in Chinese too', async () => {
    // Every attempt throttled (429 Throttling.RateQuota): the answer ends FAILED with errorCode RATE_LIMITED.
    const footer = await ask('Are you busy? [sim-fault:throttle]');
    const busy = 'The AI model provider is busy right now. Please try again in a moment.';
    expect(await footer.innerText()).toBe(busy);
    const stored = await web.sg.db.message.findFirstOrThrow({ where: { status: 'FAILED' }, orderBy: { createdAt: 'desc' } });
    expect(stored.errorCode).toBe('RATE_LIMITED');
    // The explanation comes from the stored code, not from what this page saw live.
    await page.reload();
    const reloaded = page.getByTestId('assistant-message').last().locator('.message-meta');
    await eventually(() => reloaded.innerText()).toBe(busy);
    await page.getByLabel('Language').selectOption('zh');
    await eventually(() => reloaded.innerText()).toBe('AI 模型服务当前繁忙，请稍后再试。');
    expect(await page.locator('main').innerText()).not.toMatch(RAW);
    await web.shot(page, 'model-busy-zh');
    await page.getByLabel('语言').selectOption('en');
  });

  it('says a wrong password is wrong, then counts down to when a throttled sign-in may be tried again', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    const alert = page.getByRole('alert');
    for (let attempt = 0; attempt < 2; attempt += 1) {
      await signIn('not-the-password-1');
      await eventually(() => alert.innerText()).toContain('That email, phone or password is not right.');
      await alert.getByRole('button', { name: 'Dismiss' }).click();
    }
    // The account is throttled now, even for the right password: the notice says for how long, and counts down.
    await signIn(STRONG_PASSWORD);
    await eventually(() => alert.innerText()).toMatch(/Too many requests\. Please try again in \d seconds?\./);
    await web.shot(page, 'sign-in-throttled');
    const secondsShown = async () => Number(/in (\d+) second/.exec(await alert.innerText())?.[1] ?? 0);
    const first = await secondsShown();
    expect(first).toBeGreaterThanOrEqual(2);
    expect(first).toBeLessThanOrEqual(6);
    await eventually(secondsShown, { timeout: 5_000 }).toBeLessThan(first);
    await eventually(() => alert.innerText(), { timeout: 10_000 }).toContain('You can try again now.');
    expect(await alert.innerText()).not.toMatch(RAW);
    await web.shot(page, 'sign-in-try-again');

    await alert.getByRole('button', { name: 'Dismiss' }).click();
    await signIn(STRONG_PASSWORD);
    await page.getByTestId('balance').waitFor();
  });

  it('names the service that is down when a part of the platform stops answering', async () => {
    await web.sg.servers.billing.stop();
    await page.getByRole('link', { name: 'Credits', exact: true }).click();
    const alert = page.getByRole('alert').first();
    await eventually(() => alert.innerText(), { timeout: 30_000 }).toContain('Billing is unavailable right now. Please try again in a moment.');
    expect(await page.locator('main').innerText()).not.toMatch(RAW);
    await web.shot(page, 'billing-down');
  });
});
