// Accessibility of the web client in a real browser (Debian's Chromium, headless): every screen audited with axe-core
// (WCAG 2.x A/AA rules and best practices: names, labels, contrast, landmarks, headings) in English and Chinese, and a
// keyboard-only walk — sign in, open a new conversation, send a message and hear the answer — that checks the focus
// order and each focused control's accessible name on the way. Screenshots: tests/artifacts/web/accessibility/.
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { eventually, signUpInBrowser, startWebSuite, type WebSuite } from '../../src/browser.ts';
import { STRONG_PASSWORD, uniqueEmail } from '../../src/identity-helpers.ts';

/** axe-core's browser build, injected into the page under test. */
const AXE_SOURCE = fileURLToPath(import.meta.resolve('axe-core/axe.min.js'));

let web: WebSuite;
let page: Page;
const email = uniqueEmail('a11y');

beforeAll(async () => {
  web = await startWebSuite('accessibility', { simulator: { tokenDelayMs: 20 } });
  page = web.page;
  // The account is made in a page of its own; the page under test starts signed out.
  const other = await web.context.newPage();
  await signUpInBrowser(other, web.app.url, { email, displayName: 'Keyboard User' });
  await other.evaluate(() => (globalThis as unknown as { localStorage: { clear(): void } }).localStorage.clear());
  await other.close();
}, 300_000);

afterAll(async () => {
  await web?.stop();
});

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: Array<{ target: unknown[]; failureSummary?: string }>;
}

/** Runs axe-core in the page (WCAG 2.x A and AA, and best practices) and returns what it found wrong. */
async function audit(target: Page): Promise<string[]> {
  if (!(await target.evaluate(() => 'axe' in globalThis))) await target.addScriptTag({ path: AXE_SOURCE });
  const violations = await target.evaluate(async () => {
    const axe = (globalThis as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: AxeViolation[] }> } }).axe;
    const result = await axe.run((globalThis as unknown as { document: unknown }).document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations;
  });
  return violations.map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

/** The focused element as the accessibility tree names it, e.g. `textbox "Email or phone"`. */
async function focused(target: Page): Promise<string> {
  const focus = target.locator(':focus');
  if ((await focus.count()) === 0) return '(nothing)';
  // One line of Playwright's ARIA snapshot (YAML): `- role "name"`, single-quoted when the name holds a colon.
  const line = (await focus.ariaSnapshot()).split('\n')[0]!.replace(/^- /, '').replace(/:$/, '');
  return /^'.*'$/.test(line) ? line.slice(1, -1).replaceAll("''", "'") : line;
}

/**
 * Presses Tab until the focus is on `wanted` (at most `max` presses) and returns every stop on the way; each must
 * be something with a role and a name a screen reader can say.
 */
async function tabTo(target: Page, wanted: RegExp, max = 25): Promise<string[]> {
  const stops: string[] = [];
  for (let i = 0; i < max; i += 1) {
    await target.keyboard.press('Tab');
    const now = await focused(target);
    stops.push(now);
    expect(now, `focus stop ${i + 1} has a role and a name (stops: ${stops.join(' → ')})`).toMatch(/^[a-z]+ "[^"]+"/);
    if (wanted.test(now)) return stops;
  }
  throw new Error(`${wanted} not reached with Tab: ${stops.join(' → ')}`);
}

describe('accessibility of the web client, in a browser', { timeout: 120_000 }, () => {
  it('is operable with the keyboard alone: sign in, start a conversation, send a message, hear the answer', async () => {
    await page.goto(web.app.url);
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    // Sign in: the fields in reading order, each named.
    const toEmail = await tabTo(page, /^textbox "Email or phone"/);
    expect(toEmail[0]).toMatch(/^combobox "Language"/);
    await page.keyboard.type(email);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatch(/^textbox "Password"/);
    await page.keyboard.type(STRONG_PASSWORD);
    await page.keyboard.press('Tab');
    expect(await focused(page)).toMatch(/^button "Sign in"/);
    await page.keyboard.press('Enter');
    await page.getByTestId('balance').filter({ hasText: /^[\d,]+ credits$/ }).waitFor();
    await web.shot(page, 'keyboard-signed-in');

    // The first stop of a signed-in page skips the header to the content.
    const toNew = await tabTo(page, /^button "\+ New conversation"/);
    expect(toNew[0]).toMatch(/^link "Skip to main content"/);
    expect(toNew).toEqual(expect.arrayContaining([expect.stringMatching(/^link "Chat"/), expect.stringMatching(/^button "Sign out"/)]));
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'New conversation' });
    await dialog.waitFor();
    // Focus moves into the dialog, and Escape closes it, giving the focus back to the button that opened it.
    expect(await dialog.evaluate((element) => element.contains((element.ownerDocument as unknown as { activeElement: unknown }).activeElement as never))).toBe(true);
    await page.keyboard.press('Escape');
    await eventually(() => dialog.count()).toBe(0);
    expect(await focused(page)).toMatch(/^button "\+ New conversation"/);
    await page.keyboard.press('Enter');
    await dialog.waitFor();
    const inDialog = await tabTo(page, /^button "Create"/);
    expect(inDialog).toEqual(expect.arrayContaining([expect.stringMatching(/^textbox "Title \(optional\)"/), expect.stringMatching(/^spinbutton "Temperature"/)]));
    await web.shot(page, 'keyboard-new-conversation');
    await page.keyboard.press('Enter');
    await eventually(() => dialog.count()).toBe(0);

    // The new conversation puts the focus in its composer: type and press Enter.
    await eventually(() => focused(page)).toMatch(/^textbox "Message"/);
    await page.keyboard.type('How do fireflies make light?');
    await page.keyboard.press('Enter');
    const answer = page.getByTestId('assistant-message').last();
    // While it streams, a polite status says the assistant is answering; the tokens themselves are not read one by one.
    const announcer = page.getByTestId('answer-announcer');
    expect(await announcer.getAttribute('role')).toBe('status');
    await eventually(() => answer.getAttribute('data-status'), { timeout: 60_000 }).toBe('COMPLETED');
    // Once done, the whole answer is announced once.
    const words = (text: string) => text.replace(/\s+/g, ' ').trim();
    const content = words(await answer.locator('.content').innerText());
    expect(content.length).toBeGreaterThan(10);
    await eventually(async () => words(await announcer.textContent() ?? '')).toBe(`Assistant: ${content}`);
    await web.shot(page, 'keyboard-answered');

    // Stop and Regenerate are reachable too: backwards from the composer.
    await page.getByLabel('Message', { exact: true }).focus();
    await page.keyboard.press('Shift+Tab');
    expect(await focused(page)).toMatch(/^button "↻ Regenerate"/);
  });

  it('has no axe-core violations on any screen, in English and in Chinese', async () => {
    const problems: Record<string, string[]> = {};
    const check = async (name: string) => {
      problems[name] = await audit(page);
      await web.shot(page, `audit-${name}`);
    };
    // Signed in (the walk above), a conversation with an answer on screen.
    const conversationUrl = page.url();
    await check('chat');
    await page.getByRole('button', { name: '+ New conversation' }).click();
    await page.getByRole('dialog', { name: 'New conversation' }).waitFor();
    await check('new-conversation');
    await page.keyboard.press('Escape');
    for (const [link, heading] of [
      ['Painting', 'Painting'],
      ['Credits', 'Credits'],
      ['Sessions', 'Sessions'],
    ] as const) {
      await page.getByRole('link', { name: link, exact: true }).click();
      await page.getByRole('heading', { name: heading, level: 1 }).waitFor();
      // Let lists and catalogs arrive before auditing.
      await page.waitForLoadState('networkidle');
      await check(link.toLowerCase());
    }
    await page.getByLabel('Language').selectOption('zh');
    await page.goto(conversationUrl);
    await page.getByTestId('assistant-message').last().waitFor();
    await check('chat-zh');
    await page.getByRole('button', { name: '退出登录' }).click();
    await page.getByRole('heading', { name: '登录' }).waitFor();
    await check('sign-in-zh');
    await page.getByLabel('语言').selectOption('en');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await check('sign-in');
    await page.getByRole('button', { name: 'New here? Create an account' }).click();
    await page.getByRole('heading', { name: 'Create account', level: 1 }).waitFor();
    await check('sign-up');
    expect(problems).toEqual(Object.fromEntries(Object.keys(problems).map((name) => [name, []])));
  });
});
