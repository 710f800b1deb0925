// Uploads through the gateway: createUploadUrl signs a PUT against the OSS simulator (real ali-oss client), bound to
// the declared type and size; the signed URL accepts exactly that file and nothing else.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSupergraph, type Supergraph } from '../../src/harness.ts';
import { createChatUser, errorOf, expectData } from '../../src/chat-helpers.ts';

const CREATE_UPLOAD_URL = `mutation Upload($contentType: String!, $byteSize: Int!) {
  createUploadUrl(contentType: $contentType, byteSize: $byteSize) { url method headers key expiresAt }
}`;

let sg: Supergraph;

beforeAll(async () => {
  sg = await startSupergraph();
});

afterAll(async () => {
  await sg?.stop();
});

describe('createUploadUrl', () => {
  it('signs a PUT that stores exactly the declared file under the caller\'s uploads', async () => {
    const user = await createChatUser(sg, 0);
    const file = Buffer.alloc(2048, 3);
    const ticket = expectData(await user.call(CREATE_UPLOAD_URL, { contentType: 'image/png', byteSize: file.length })).createUploadUrl;
    expect(ticket.method).toBe('PUT');
    expect(ticket.headers).toEqual({ 'Content-Type': 'image/png' });
    expect(ticket.key).toMatch(new RegExp(`^uploads/default/${user.id}/[0-9a-f-]{36}\\.png$`));
    expect(Date.parse(ticket.expiresAt)).toBeGreaterThan(Date.now());

    const wrongType = await fetch(ticket.url, { method: 'PUT', body: file, headers: { 'Content-Type': 'image/jpeg' } });
    expect(wrongType.status).toBe(403);
    const wrongSize = await fetch(ticket.url, { method: 'PUT', body: Buffer.alloc(2049, 3), headers: ticket.headers });
    expect(wrongSize.status).toBe(403);
    expect(sg.oss.keys()).not.toContain(ticket.key);

    const ok = await fetch(ticket.url, { method: ticket.method, body: file, headers: ticket.headers });
    expect(ok.status).toBe(200);
    expect(sg.oss.keys()).toContain(ticket.key);
  });

  it('refuses other types, empty and oversized files, and anonymous callers', async () => {
    const user = await createChatUser(sg, 0);
    expect(errorOf(await user.call(CREATE_UPLOAD_URL, { contentType: 'image/gif', byteSize: 10 }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'contentType' });
    expect(errorOf(await user.call(CREATE_UPLOAD_URL, { contentType: 'image/png', byteSize: 0 }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'byteSize' });
    expect(errorOf(await user.call(CREATE_UPLOAD_URL, { contentType: 'image/webp', byteSize: 20 * 1024 * 1024 + 1 }))).toMatchObject({ code: 'BAD_USER_INPUT', field: 'byteSize' });
    const anonymous = await sg.request(CREATE_UPLOAD_URL, { variables: { contentType: 'image/png', byteSize: 10 } });
    expect(anonymous.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });
});
