// The web client when the connection is not what it should be, in a real browser (Debian's Chromium, headless):
// a graphql-ws socket dropped by the gateway's side mid-answer ("Connection lost — reconnecting…", then the answer
// resumed with afterSeq: every token once, none lost), a network that refuses WebSockets (the painting job polled
// instead, its progress and pictures still arriving), and the gateway's own per-user rate limit (the notice says
// when to try again and counts down; no code on screen). Screenshots: tests/artifacts/web/connection/.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, WebSocket } from 'playwright-core';
import { eventually, signUpInBrowser, startWebSuite, type WebSuite } from '../../src/browser.ts';
import { startImageWorker, type TestImageWorker } from '../../src/image-helpers.ts';
import { uniqueEmail } from '../../src/identity-helpers.ts';
import { findUserByEmail } from '../../src/pii.ts';

let web: WebSuite;
let worker: TestImageWorker;
let page: Page;
const email = uniqueEmail('connection');
/** Other files may run against the same database at once: look only at this person's rows. */
const userId = async () => (await findUserByEmail(web.sg.db, email)).id;
/** What must never be on screen: codes, stack frames. */
const RAW = /[A-Z]{2,}_[A-Z_]+|Error:|\bat \S+:\d+/;
/** The gateway's per-user budget: large enough for everything else here, small enough to spend from the test. */
const USER_LIMIT = 150;
const USER_WINDOW_SECONDS = 45;

beforeAll(async () => {
  // Tokens ~60 ms apart: an answer long enough to drop the socket in the middle of it.
  web = await startWebSuite(
    'connection',
    { simulator: { tokenDelayMs: 60 }, env: { RATE_LIMIT_PER_USER: `${USER_LIMIT}/${USER_WINDOW_SECONDS}` } },
    { gatewayProxy: true },
  );
  worker = await startImageWorker(web.sg);
  page = web.page;
  await signUpInBrowser(page, web.app.url, { email, displayName: 'Connection' });
}, 300_000);

afterAll(async () => {
  await worker?.stop();
  await web?.stop();
});

/** graphql-ws traffic of a page, as the browser sent and received it. */
function recordSockets(target: Page) {
  const sent: Array<{ type: string; payload?: { variables?: Record<string, unknown> } }> = [];
  const streamEvents: Array<{ seq: number; delta: string; done: boolean; socket: number }> = [];
  let sockets = 0;
  target.on('websocket', (socket: WebSocket) => {
    const n = ++sockets;
    socket.on('framesent', ({ payload }) => sent.push(JSON.parse(String(payload))));
    socket.on('framereceived', ({ payload }) => {
      const message = JSON.parse(String(payload)) as { type: string; payload?: { data?: { messageStream?: { seq: number; delta: string; done: boolean } } } };
      const event = message.type === 'next' ? message.payload?.data?.messageStream : undefined;
      if (event) streamEvents.push({ seq: event.seq, delta: event.delta, done: event.done, socket: n });
    });
  });
  return { sent, streamEvents, sockets: () => sockets };
}

async function newConversation() {
  const before = page.url();
  await page.getByRole('link', { name: 'Chat', exact: true }).click();
  await page.getByRole('button', { name: '+ New conversation' }).click();
  await page.getByRole('dialog').getByRole('button', { name: 'Create' }).click();
  await eventually(() => page.url()).not.toBe(before);
}

describe('the web client when the connection fails, in a browser', { timeout: 120_000 }, () => {
  it('shows "reconnecting" when the socket drops mid-answer, then resumes after the last token shown: none lost, none twice', async () => {
    const traffic = recordSockets(page);
    await newConversation();
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('Why do fireflies glow? Tell me in detail, step by step.');
    await composer.press('Enter');
    const answer = page.getByTestId('assistant-message').last();
    const content = answer.locator('.content');
    // Some of the answer is on screen: then the gateway side goes away (every connection through it reset).
    await eventually(() => traffic.streamEvents.filter((e) => e.delta).length).toBeGreaterThanOrEqual(5);
    const messageId = (await web.sg.db.message.findFirstOrThrow({ where: { userId: await userId(), role: 'ASSISTANT', status: 'STREAMING' } })).id;
    web.gatewayProxy!.setDown(true);
    const status = page.getByRole('status').filter({ hasText: 'Connection lost — reconnecting…' });
    await eventually(() => status.isVisible()).toBe(true);
    const seenBeforeDrop = Math.max(...traffic.streamEvents.map((e) => e.seq));
    const shownBeforeDrop = await content.innerText();
    await web.shot(page, 'reconnecting');
    // The answer goes on being written meanwhile: wait until the server is well past what the page saw.
    await eventually(() => web.sg.redis.xlen(`chat:stream:{${messageId}}`)).toBeGreaterThan(seenBeforeDrop + 5);
    expect((await content.innerText()).startsWith(shownBeforeDrop)).toBe(true);
    web.gatewayProxy!.setDown(false);

    // Back: the line goes, the answer grows from where it stopped and ends.
    await eventually(() => status.count()).toBe(0);
    await eventually(() => answer.getAttribute('data-status'), { timeout: 60_000 }).toBe('COMPLETED');
    await web.shot(page, 'resumed');

    // The page asked again after the last token it had shown, on a new socket.
    const subscribes = traffic.sent.filter((m) => m.type === 'subscribe' && m.payload?.variables?.messageId === messageId);
    expect(subscribes.length).toBeGreaterThanOrEqual(2);
    expect(subscribes[0]!.payload!.variables!.afterSeq).toBeNull();
    const resumedAfter = subscribes.slice(1).map((m) => m.payload!.variables!.afterSeq as number);
    expect(resumedAfter[0]).toBeGreaterThanOrEqual(seenBeforeDrop);
    expect(traffic.sockets()).toBeGreaterThanOrEqual(2);
    // Every token arrived exactly once across the sockets, in order, and what the page shows is exactly them.
    const events = traffic.streamEvents.filter((e) => e.seq > 0);
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)!.done).toBe(true);
    expect(new Set(events.map((e) => e.socket)).size).toBeGreaterThanOrEqual(2);
    const streamed = events.map((e) => e.delta).join('');
    const stored = await web.sg.db.message.findUniqueOrThrow({ where: { id: messageId } });
    expect(stored.content).toBe(streamed);
    expect((await content.innerText()).trim()).toBe(streamed.trim());
    expect(await page.locator('main').innerText()).not.toMatch(RAW);
  });

  it('paints without subscriptions when the network refuses WebSockets: the job is polled, progress and pictures still arrive', async () => {
    // A second tab of the same person behind a network that closes every WebSocket as soon as it opens.
    const blocked = await web.context.newPage();
    await blocked.routeWebSocket(/\/graphql$/, (socket) => socket.close({ code: 1008, reason: 'WebSockets are not allowed here' }));
    let polls = 0;
    blocked.on('request', (request) => {
      if (request.method() === 'POST' && (request.postData() ?? '').includes('"operationName":"ImageJob"')) polls += 1;
    });
    await blocked.goto(new URL('#/paint', web.app.url).toString());
    await blocked.getByRole('heading', { name: 'Painting', level: 1 }).waitFor();
    await blocked.getByTestId('balance').filter({ hasText: /^[\d,]+ credits$/ }).waitFor();
    const before = Number((await blocked.getByTestId('balance').innerText()).replace(/[^\d]/g, ''));
    await blocked.getByLabel('Describe the picture').fill('A lantern festival seen from a hill, watercolour');
    await blocked.getByLabel('Number of images').fill('1');
    await blocked.getByRole('button', { name: 'Paint', exact: true }).click();

    // The job's card moves on although no event can arrive: its state comes from imageJob, asked every 1.5 s.
    const card = blocked.getByTestId('image-job').first();
    const states = new Set<string>();
    await eventually(
      async () => {
        if ((await card.count()) > 0) states.add(`${await card.getAttribute('data-status').catch(() => '')} ${await card.getByTestId('job-progress').innerText().catch(() => '')}`);
        return blocked.getByTestId('gallery').getByRole('img').count();
      },
      { timeout: 60_000 },
    ).toBe(1);
    expect(polls).toBeGreaterThanOrEqual(2);
    // Progress was seen on the way, polled while the subscription was still being tried (createImageJob's own answer
    // is QUEUED; only a poll can have shown RUNNING), not only the end after the subscription was given up.
    expect([...states].some((s) => s.startsWith('RUNNING '))).toBe(true);
    const job = await web.sg.db.imageJob.findFirstOrThrow({ where: { userId: await userId(), prompt: 'A lantern festival seen from a hill, watercolour' } });
    expect(job.status).toBe('SUCCEEDED');
    // The credits charged show once the job is settled.
    await eventually(async () => Number((await blocked.getByTestId('balance').innerText()).replace(/[^\d]/g, ''))).toBe(before - job.creditsCharged!);
    expect(await blocked.locator('main').innerText()).not.toMatch(RAW);
    await web.shot(blocked, 'painted-by-polling');
    await blocked.close();
  });

  it('says when to try again when the gateway rate-limits this person, counts down, and then sends', async () => {
    await newConversation();
    const composer = page.getByLabel('Message', { exact: true });
    await composer.fill('One more question, please.');
    // This person's budget at the gateway is spent elsewhere (another tab, a script of theirs).
    const accessToken = await page.evaluate(() => {
      const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null } }).localStorage;
      return (JSON.parse(storage.getItem('firefly.session') ?? '{}') as { accessToken?: string }).accessToken;
    });
    expect(accessToken).toBeTruthy();
    // In bursts, so the whole budget goes within one window however loaded the machine is.
    const spend = async () => {
      const response = await fetch(web.sg.gatewayUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${accessToken}` },
        body: JSON.stringify({ query: '{ me { id } }' }),
      });
      const body = (await response.json()) as { errors?: Array<{ extensions?: { code?: string } }> };
      return { status: response.status, code: body.errors?.[0]?.extensions?.code };
    };
    let refusal: { status: number; code?: string } | undefined;
    for (let spent = 0; spent <= USER_LIMIT + 25 && !refusal; spent += 25) {
      refusal = (await Promise.all(Array.from({ length: 25 }, spend))).find((r) => r.code === 'RATE_LIMITED');
    }
    expect(refusal).toEqual({ status: 429, code: 'RATE_LIMITED' });

    await composer.press('Enter');
    // The notice keeps its place while its sentence changes from the countdown to "now".
    const notice = page.locator('[role="alert"][data-error-kind="rateLimited"]').first();
    await eventually(() => notice.innerText()).toMatch(/Too many requests\. Please try again in \d+ seconds?\./);
    const secondsShown = async () => Number(/in (\d+) second/.exec(await notice.innerText())?.[1] ?? 0);
    const first = await secondsShown();
    expect(first).toBeGreaterThanOrEqual(1);
    expect(first).toBeLessThanOrEqual(USER_WINDOW_SECONDS);
    expect(await page.locator('main').innerText()).not.toMatch(RAW);
    await web.shot(page, 'rate-limited');
    // The draft is kept, the countdown runs down to "now", and then the same message goes through.
    expect(await composer.inputValue()).toBe('One more question, please.');
    await eventually(() => notice.innerText(), { timeout: (USER_WINDOW_SECONDS + 10) * 1000 }).toContain('You can try again now.');
    await web.shot(page, 'rate-limit-over');
    await notice.getByRole('button', { name: 'Dismiss' }).click();
    await composer.press('Enter');
    const answer = page.getByTestId('assistant-message').last();
    await eventually(() => answer.getAttribute('data-status'), { timeout: 60_000 }).toBe('COMPLETED');
  });
});
