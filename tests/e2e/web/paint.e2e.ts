// Painting in a real browser (Debian's Chromium, headless) against the whole platform: an image worker, the
// DashScope simulator (Wanxiang tasks: ~1 s queued, ~3 s running) and the OSS simulator. Two pictures painted and
// shown in the gallery from storage, the job's progress followed on screen, the credits charged, a picture deleted,
// a reference image uploaded straight to storage, and what a person reads when the prompt is refused or the credits
// run out. Screenshots: tests/artifacts/web/paint/.
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { eventually, signUpInBrowser, startWebSuite, type WebSuite } from '../../src/browser.ts';
import { startImageWorker, type TestImageWorker } from '../../src/image-helpers.ts';
import { uniqueEmail } from '../../src/identity-helpers.ts';
import { findUserByEmail } from '../../src/pii.ts';

let web: WebSuite;
let worker: TestImageWorker;
let page: Page;
const email = uniqueEmail('painter');

beforeAll(async () => {
  web = await startWebSuite('paint');
  worker = await startImageWorker(web.sg);
  page = web.page;
  await signUpInBrowser(page, web.app.url, { email, displayName: 'Painter' });
  await page.getByRole('link', { name: 'Painting', exact: true }).click();
  await page.getByRole('heading', { name: 'Painting', level: 1 }).waitFor();
}, 180_000);

afterAll(async () => {
  await worker?.stop();
  await web?.stop();
});

/** The parts of an HTMLImageElement read here (the tests compile without the DOM library). */
interface LoadedImage {
  complete: boolean;
  naturalWidth: number;
  naturalHeight: number;
}

const gallery = () => page.getByTestId('gallery').getByRole('img');
const jobCard = () => page.getByTestId('image-job').first();
const userId = async () => (await findUserByEmail(web.sg.db, email)).id;

/** The balance once the header shows what billing holds (a job of the test before may settle after it ended). */
async function settledBalance(): Promise<number> {
  const { available } = await web.sg.db.creditAccount.findFirstOrThrow({ where: { userId: await userId() } });
  await eventually(() => web.balance()).toBe(available);
  return available;
}

async function paint(prompt: string, options: { count?: number; size?: string } = {}) {
  await page.getByLabel('Describe the picture').fill(prompt);
  if (options.size) await page.getByLabel('Size').selectOption(options.size);
  await page.getByLabel('Number of images').fill(String(options.count ?? 1));
  await page.getByRole('button', { name: 'Paint', exact: true }).click();
}

/** Counts the page's `imageJob` polls (the fallback when the subscription is unavailable). */
function imageJobPolls() {
  const counter = { count: 0 };
  page.on('request', (request) => {
    if (request.url().endsWith('/graphql') && request.method() === 'POST' && (request.postData() ?? '').includes('"operationName":"ImageJob"')) counter.count += 1;
  });
  return counter;
}

/** A small real PNG, as a person would pick from disk. */
function pngFile(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  png.data.fill(200);
  return PNG.sync.write(png);
}

describe('painting in a browser', { timeout: 90_000 }, () => {
  it('paints two pictures: the job is followed on screen, then both are in the gallery and the credits are charged', async () => {
    const before = await web.balance();
    const polls = imageJobPolls();
    await paint('A firefly over a rice field at night, ink painting', { count: 2, size: '1280*720' });

    // The job's card follows it live while it runs; every state seen on screen is recorded.
    const seen: string[] = [];
    await eventually(
      async () => {
        const card = jobCard();
        if ((await card.count()) > 0) {
          const status = await card.getAttribute('data-status').catch(() => null);
          const progress = await card.getByTestId('job-progress').innerText().catch(() => '');
          const read = `${status} ${progress}`;
          // A finished card can leave for the gallery between the two reads: its progress then reads empty, not a state.
          if (status && progress !== '' && seen.at(-1) !== read) {
            seen.push(read);
            if (seen.length <= 3) await web.shot(page, `job-${status.toLowerCase()}-${progress.replace('%', '')}`);
          }
        }
        return gallery().count();
      },
      { timeout: 30_000 },
    ).toBe(2);
    // The progress grew on screen while the pictures were painted, never backwards (a finished job then leaves the
    // list for the gallery).
    const percents = seen.map((s) => Number(/ (\d+)%$/.exec(s)![1]));
    expect(seen.filter((s) => s.startsWith('RUNNING ')).length).toBeGreaterThanOrEqual(3);
    expect(percents.filter((p) => p > 0 && p < 100).length).toBeGreaterThanOrEqual(2);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    // Followed live by imageJobUpdated, not by polling.
    expect(polls.count).toBe(0);

    // The pictures come from storage and really load, at the size asked for.
    for (const image of await gallery().all()) {
      await eventually(() => image.evaluate((img: LoadedImage) => img.complete && img.naturalWidth)).toBe(1280);
      expect(await image.evaluate((img: LoadedImage) => img.naturalHeight)).toBe(720);
      expect(await image.getAttribute('alt')).toBe('Painted from: A firefly over a rice field at night, ink painting');
    }
    const job = await web.sg.db.imageJob.findFirstOrThrow({ where: { userId: await userId() }, orderBy: { createdAt: 'desc' } });
    expect(job).toMatchObject({ status: 'SUCCEEDED', count: 2 });
    expect(job.creditsCharged).toBeGreaterThan(0);
    await eventually(() => web.balance()).toBe(before - job.creditsCharged!);
    await web.shot(page, 'gallery');

    // Still there after a reload.
    await page.reload();
    await eventually(() => gallery().count()).toBe(2);
  });

  it('deletes a picture from the gallery, and its address stops working', async () => {
    const first = gallery().first();
    const url = (await first.getAttribute('src'))!;
    expect((await page.request.get(url)).status()).toBe(200);
    await page.getByRole('button', { name: 'Delete image' }).first().click();
    await eventually(() => gallery().count()).toBe(1);
    expect((await page.request.get(url)).status()).toBe(404);
    await page.reload();
    await eventually(() => gallery().count()).toBe(1);
    await web.shot(page, 'gallery-after-delete');
  });

  it('uploads a reference image straight to storage for a model that takes one, and paints from it', async () => {
    // The default model paints from text only: no upload offered.
    expect(await page.getByLabel('Reference image (optional)').count()).toBe(0);
    expect(await page.getByText('This model paints from the description only').isVisible()).toBe(true);
    await page.getByLabel('Model').selectOption({ label: '通义万相 V1' });
    const input = page.getByLabel('Reference image (optional)');
    await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not a picture') });
    await eventually(() => page.getByText('Choose a PNG, JPEG or WebP image of at most 20 MB.').isVisible()).toBe(true);

    const file = pngFile(64, 48);
    await input.setInputFiles({ name: 'sketch.png', mimeType: 'image/png', buffer: file });
    await eventually(() => page.getByText('Uploaded sketch.png').isVisible()).toBe(true);
    const key = await page.locator('img.reference-preview').getAttribute('data-upload-key');
    expect(key).toMatch(new RegExp(`^uploads/default/${await userId()}/[0-9a-f-]+\\.png$`));
    // The bytes went to the bucket under that key, through the signed URL (the browser's PUT, CORS included).
    expect(web.sg.oss.keys()).toContain(key);
    expect(web.sg.oss.requests().filter((r) => r.method === 'PUT' && r.key === key).map((r) => r.status)).toEqual([200]);
    await web.shot(page, 'reference-uploaded');

    // Painted with it: the job carries the upload, and DashScope was handed a URL of it (ref_img).
    const images = await gallery().count();
    await paint('The same sketch, as a watercolour');
    await eventually(() => gallery().count(), { timeout: 30_000 }).toBe(images + 1);
    const job = await web.sg.db.imageJob.findFirstOrThrow({ where: { userId: await userId() }, orderBy: { createdAt: 'desc' } });
    expect(job).toMatchObject({ status: 'SUCCEEDED', model: 'wanx-v1', referenceImageKey: key });
    const submitted = web.sg.simulator.requests.filter((r) => r.endpoint === 'imageSynthesis').at(-1)?.body as { input?: { prompt?: string; ref_img?: string } };
    expect(submitted.input?.prompt).toBe('The same sketch, as a watercolour');
    expect(new URL(submitted.input!.ref_img!).pathname).toContain(key!);
    await web.shot(page, 'painted-from-reference');
  });

  it('says the prompt was refused when content moderation rejects it, and charges nothing', async () => {
    const before = await settledBalance();
    // The DashScope simulator's moderation refuses prompts with this trigger.
    await paint('sim:inspection a forbidden picture');
    const card = jobCard();
    await eventually(() => card.getAttribute('data-status'), { timeout: 30_000 }).toBe('FAILED');
    const failure = card.locator('[data-error-code]');
    expect(await failure.innerText()).toBe('The content safety check refused this prompt. Please rephrase it and try again. No credits were charged for them.');
    expect(await card.innerText()).not.toMatch(/CONTENT_REJECTED|DataInspection/);
    await eventually(() => web.balance()).toBe(before);
    await web.shot(page, 'content-rejected');
  });

  it('names the image generation service when it fails the job, in English and Chinese, and charges nothing', async () => {
    const before = await settledBalance();
    // DashScope fails the task: the job ends UPSTREAM_UNAVAILABLE with errorService dashscope.
    web.sg.simulator.setFaults([{ kind: 'taskFailed', times: 1 }]);
    try {
      await paint('A paper boat on a pond at dusk');
      // The refused job of the test before is still listed: this one is found by its prompt.
      const card = page.getByTestId('image-job').filter({ hasText: 'A paper boat on a pond at dusk' });
      await eventually(() => card.getAttribute('data-status'), { timeout: 30_000 }).toBe('FAILED');
      const failure = card.locator('[data-error-code]');
      expect(await failure.innerText()).toBe('The image generation service is unavailable right now. Please try again in a moment. No credits were charged for them.');
      expect(await card.innerText()).not.toMatch(/UPSTREAM_UNAVAILABLE|dashscope/i);
      await eventually(() => web.balance()).toBe(before);
      await web.shot(page, 'image-service-down');
      await page.getByLabel('Language').selectOption('zh');
      await eventually(() => failure.innerText()).toBe('图片生成服务暂时不可用，请稍后再试。 未扣除积分。');
      await web.shot(page, 'image-service-down-zh');
    } finally {
      web.sg.simulator.setFaults([]);
      await page.getByLabel(/^(Language|语言)$/).selectOption('en');
    }
  });

  it('offers to buy credits when there are not enough to paint', async () => {
    await web.sg.db.creditAccount.updateMany({ where: { userId: await userId() }, data: { available: 0 } });
    await paint('A lantern festival');
    const alert = page.getByRole('alert');
    await eventually(() => alert.innerText()).toContain('You do not have enough credits for this.');
    expect(await alert.innerText()).not.toMatch(/INSUFFICIENT_CREDITS/);
    await web.shot(page, 'insufficient-credits');
    await alert.getByRole('button', { name: 'Buy credits' }).click();
    await eventually(() => page.getByRole('heading', { name: 'Credits', level: 1 }).isVisible()).toBe(true);
  });
});
