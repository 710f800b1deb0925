// A reference image through the gateway: the caller uploads a file with createUploadUrl (OSS simulator, real ali-oss
// client), names its key in createImageJob, the image subgraph checks it before holding credits, and the image
// worker hands DashScope (simulator) a signed URL of it as `ref_img`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { balanceOf, createChatUser, errorOf, expectData, type ChatUser } from '../../src/chat-helpers.ts';
import { CREATE_IMAGE_JOB, startImageWorker, waitForFinishedJob, type ImageJobView, type TestImageWorker } from '../../src/image-helpers.ts';

/** wanx-v1 takes ref_img and costs 4 credits an image (seed catalog); the 2.1 models do not take one. */
const V1 = 'wanx-v1';
const TURBO = 'wanx2.1-t2i-turbo';
/** A valid 1×1 PNG. */
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');
const UPLOAD = `mutation Upload($contentType: String!, $byteSize: Int!) { createUploadUrl(contentType: $contentType, byteSize: $byteSize) { url method headers key } }`;

let sg: Supergraph;
let worker: TestImageWorker;

beforeAll(async () => {
  sg = await startSupergraph({ simulator: { taskPendingMs: 100, taskRunningMs: 300, maxConcurrentTasksPerModel: 50 } });
  worker = await startImageWorker(sg);
});

afterAll(async () => {
  await worker?.stop();
  await sg?.stop();
});

/** Uploads `bytes` declared as `contentType` through a ticket of the caller's; returns the key. */
async function upload(user: ChatUser, bytes: Buffer, contentType = 'image/png'): Promise<string> {
  const ticket = expectData(await user.call(UPLOAD, { contentType, byteSize: bytes.length })).createUploadUrl;
  const put = await fetch(ticket.url, { method: ticket.method, body: bytes, headers: ticket.headers });
  expect(put.status).toBe(200);
  return ticket.key as string;
}

const submitsFor = (prompt: string) => sg.simulator.requests.filter((r) => r.endpoint === 'imageSynthesis' && JSON.stringify(r.body).includes(prompt));

describe('reference images', () => {
  it('the catalog says which models take one', async () => {
    const models = (await sg.request('{ imageModels { id acceptsReferenceImage } }')).body.data!.imageModels as { id: string; acceptsReferenceImage: boolean }[];
    expect(models.find((m) => m.id === V1)?.acceptsReferenceImage).toBe(true);
    expect(models.find((m) => m.id === TURBO)?.acceptsReferenceImage).toBe(false);
  });

  it('an uploaded image is used as the job\'s reference: DashScope gets a URL that serves exactly the uploaded bytes', async () => {
    const user = await createChatUser(sg, 100);
    const key = await upload(user, PNG);
    const prompt = `in the style of the reference ${Date.now()}`;
    const created = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt, model: V1, count: 1, referenceImageKey: key } })).createImageJob as ImageJobView;
    const job = await waitForFinishedJob(user, created.id);
    expect(job).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 4 });
    const submits = submitsFor(prompt);
    expect(submits).toHaveLength(1);
    const refImg = (submits[0]!.body as { input: { ref_img?: string } }).input.ref_img;
    expect(refImg).toMatch(/^http/);
    const served = await fetch(refImg!);
    expect(served.status).toBe(200);
    expect(Buffer.from(await served.arrayBuffer())).toEqual(PNG);
  });

  it('strength and mode reach DashScope as ref_strength and ref_mode; the simulator checks them as DashScope documents', async () => {
    const user = await createChatUser(sg, 100);
    const key = await upload(user, PNG);
    const prompt = `only the style of the reference ${Date.now()}`;
    const created = expectData(
      await user.call(CREATE_IMAGE_JOB, { input: { prompt, model: V1, count: 1, referenceImageKey: key, referenceStrength: 0.35, referenceMode: 'REFONLY' } }),
    ).createImageJob as ImageJobView;
    expect(await waitForFinishedJob(user, created.id)).toMatchObject({ status: 'SUCCEEDED', creditsCharged: 4 });
    const body = submitsFor(prompt)[0]!.body as { input: { ref_img?: string }; parameters: Record<string, unknown> };
    expect(body.input.ref_img).toMatch(/^http/);
    expect(body.parameters).toMatchObject({ ref_strength: 0.35, ref_mode: 'refonly' });

    // Without them, DashScope's defaults apply: nothing is sent.
    const plain = `the reference as it is ${Date.now()}`;
    const second = expectData(await user.call(CREATE_IMAGE_JOB, { input: { prompt: plain, model: V1, count: 1, referenceImageKey: key } })).createImageJob as ImageJobView;
    expect(await waitForFinishedJob(user, second.id)).toMatchObject({ status: 'SUCCEEDED' });
    const plainBody = submitsFor(plain)[0]!.body as { parameters: Record<string, unknown> };
    expect(plainBody.parameters).not.toHaveProperty('ref_strength');
    expect(plainBody.parameters).not.toHaveProperty('ref_mode');
  });

  it('refuses a strength outside 0..1, and a strength or mode without a reference image, naming the field and holding nothing', async () => {
    const user = await createChatUser(sg, 100);
    const key = await upload(user, PNG);
    const cases: [Record<string, unknown>, string, RegExp][] = [
      [{ referenceImageKey: key, referenceStrength: 1.5 }, 'referenceStrength', /from 0 to 1/],
      [{ referenceImageKey: key, referenceStrength: -0.1 }, 'referenceStrength', /from 0 to 1/],
      [{ referenceStrength: 0.5 }, 'referenceStrength', /needs a reference image/],
      [{ referenceMode: 'REPAINT' }, 'referenceMode', /needs a reference image/],
    ];
    for (const [input, field, message] of cases) {
      const error = errorOf(await user.call(CREATE_IMAGE_JOB, { input: { prompt: 'refused', model: V1, count: 1, ...input } }));
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(error.message).toMatch(message);
    }
    // A mode that is not one of the enum's values is refused by GraphQL validation itself.
    const unknownMode = await user.call(CREATE_IMAGE_JOB, { input: { prompt: 'refused', model: V1, count: 1, referenceImageKey: key, referenceMode: 'SKETCH' } });
    expect(errorOf(unknownMode)).toMatchObject({ code: 'BAD_USER_INPUT' });
    expect(errorOf(unknownMode).message).toMatch(/referenceMode/);
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(0);
  });

  it('refuses, naming referenceImageKey and holding nothing: a model without references, someone else\'s upload, nothing uploaded, bytes that are not the declared type', async () => {
    const user = await createChatUser(sg, 100);
    const other = await createChatUser(sg, 100);
    const mine = await upload(user, PNG);
    const theirs = await upload(other, PNG);
    // Declared PNG, uploaded with the right type and size, but the bytes are no PNG.
    const fake = await upload(user, Buffer.alloc(PNG.length, 7));
    const ticket = expectData(await user.call(UPLOAD, { contentType: 'image/png', byteSize: PNG.length })).createUploadUrl;
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ model: TURBO, referenceImageKey: mine }, /does not take a reference image/],
      [{ model: V1, referenceImageKey: theirs }, /not one of your uploads/],
      [{ model: V1, referenceImageKey: ticket.key }, /not one of your uploads/],
      [{ model: V1, referenceImageKey: `uploads/default/${user.id}/../../x.png` }, /not one of your uploads/],
      [{ model: V1, referenceImageKey: fake }, /not the PNG image it was uploaded as/],
    ];
    for (const [input, message] of cases) {
      const error = errorOf(await user.call(CREATE_IMAGE_JOB, { input: { prompt: 'refused', count: 1, ...input } }));
      expect(error).toMatchObject({ code: 'BAD_USER_INPUT', field: 'referenceImageKey' });
      expect(error.message).toMatch(message);
    }
    expect(await balanceOf(sg.db, user.id)).toEqual({ available: 100, reserved: 0 });
    expect(await sg.db.imageJob.count({ where: { userId: user.id } })).toBe(0);
  });
});
