// Phone sign-in and sessions in a real browser (Debian's Chromium, headless) against the whole platform, SMS sent
// through our real Aliyun client to the local Dysmsapi double: sign up with a phone and an SMS code, sign in on a
// second browser with another code, see both sessions, sign the other one out from here, and watch that browser
// end up on the sign-in screen saying the session ended. Screenshots: tests/artifacts/web/sessions/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { eventually, startWebSuite, type WebSuite } from '../../src/browser.ts';
import { startIdentitySupergraph, uniquePhone, type IdentitySupergraph } from '../../src/identity-helpers.ts';

let web: WebSuite<IdentitySupergraph>;
let page: Page;
let other: BrowserContext;
let otherPage: Page;
const phone = uniquePhone();

beforeAll(async () => {
  // A 2 s cooldown between codes to one phone, so the second browser need not wait a minute for its code.
  web = await startWebSuite('sessions', () => startIdentitySupergraph({ env: { SMS_COOLDOWN_SECONDS: '2' } }));
  page = web.page;
  other = await web.browser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 800 } });
  otherPage = await other.newPage();
}, 180_000);

afterAll(async () => {
  await other?.close();
  await web?.stop();
});

/** Asks for a code on the phone form and types the one the SMS double received. */
async function enterSmsCode(on: Page) {
  const before = web.sg.sms.messages(phone).length;
  await on.getByLabel('Mobile number').fill(phone);
  await on.getByRole('button', { name: 'Send code' }).click();
  await eventually(() => web.sg.sms.messages(phone).length).toBe(before + 1);
  // The button counts down before another code may be asked for.
  await eventually(() => on.getByRole('button', { name: /^Resend in \d+s$/ }).isVisible()).toBe(true);
  await on.getByRole('textbox', { name: 'SMS code' }).fill(web.sg.sms.lastCode(phone)!);
}

describe('phone sign-in and sessions in a browser', { timeout: 90_000 }, () => {
  it('signs up with a phone number and an SMS code', async () => {
    await page.goto(web.app.url);
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByRole('radio', { name: 'Phone and SMS code' }).check();
    await page.getByLabel('Your name').fill('Phone Person');
    await enterSmsCode(page);
    await web.shot(page, 'phone-sign-up');
    await page.getByRole('button', { name: 'Create account' }).click();
    await eventually(() => page.getByTestId('balance').innerText()).toBe('100 credits');
  });

  it('says a wrong SMS code is wrong, and signs in a second browser with a new code', async () => {
    await otherPage.goto(web.app.url);
    await otherPage.getByRole('radio', { name: 'Phone and SMS code' }).check();
    await enterSmsCode(otherPage);
    const right = web.sg.sms.lastCode(phone)!;
    await otherPage.getByRole('textbox', { name: 'SMS code' }).fill(right === '000000' ? '111111' : '000000');
    await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await eventually(() => otherPage.getByRole('alert').innerText()).toContain('That code is not right, or it has expired. Ask for a new one.');
    await web.shot(otherPage, 'wrong-code');
    await otherPage.getByRole('textbox', { name: 'SMS code' }).fill(right);
    await otherPage.getByRole('button', { name: 'Sign in', exact: true }).click();
    await eventually(() => otherPage.getByTestId('balance').innerText()).toBe('100 credits');
  });

  it('lists both sessions and signs the other browser out, which then lands on the sign-in screen', async () => {
    await page.getByRole('link', { name: 'Sessions' }).click();
    const rows = page.getByTestId('session-row');
    await eventually(() => rows.count()).toBe(2);
    const mine = rows.filter({ hasText: 'This browser' });
    expect(await mine.count()).toBe(1);
    await web.shot(page, 'two-sessions');
    await rows.filter({ hasNotText: 'This browser' }).getByRole('button', { name: 'Sign out this device' }).click();
    await eventually(() => rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('This browser');

    // The other browser's next request is refused and its refresh token no longer works: it is signed out, told why.
    await otherPage.getByRole('link', { name: 'Credits', exact: true }).click();
    await eventually(() => otherPage.getByRole('heading', { name: 'Sign in' }).isVisible(), { timeout: 30_000 }).toBe(true);
    expect(await otherPage.getByText('Your session has ended. Please sign in again.').isVisible()).toBe(true);
    await web.shot(otherPage, 'signed-out-elsewhere');

    // This browser is unaffected.
    await page.reload();
    await eventually(() => page.getByTestId('session-row').count()).toBe(1);
  });
});
