import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { Supergraph } from '@apollo/federation-internals';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCredentialSigner } from '@firefly/auth';
import { BillingCallError, createCreditsClient, type CreditsClient } from '@firefly/credits-client';
import { createPriceSource } from '../data/prices.ts';
import type { PriceSource } from '../domain/ports.ts';
import { reserveChatCredits } from '../domain/reserve-chat-credits.ts';
import { billingScope, expectLedgerInvariant, newTenantId, newUserId, serviceIdentity, startTestBilling, userIdentity, type TestBilling } from './helpers.ts';

const INTERNAL_FIELDS = ['reserveCredits', 'reserveChatCredits', 'reserveImageCredits', 'settleReservation', 'releaseReservation', 'grantSignupCredits', 'chatCost', 'imageCost', 'setChatPrice', 'setImagePrice'];
const RESERVE = `mutation($input: ReserveCreditsInput!) { reserveCredits(input: $input) { id status amount } }`;

let billing: TestBilling;
let client: CreditsClient;
beforeAll(async () => {
  billing = await startTestBilling();
  client = createCreditsClient({ url: billing.url, secret: billing.secret, service: 'conversation', retryDelayMs: 10 });
});
afterAll(() => billing.stop());

const reserveVariables = (userId: string) => ({ input: { userId, amount: 1, referenceId: 'msg-1', ttlSeconds: 60, idempotencyKey: randomUUID() } });

describe('the internal credit API refuses everyone but our services', () => {
  it('no credential: 401 before any resolver runs', async () => {
    const response = await billing.request(RESERVE, reserveVariables(newUserId()), null);
    expect(response.status).toBe(401);
    expect(response.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  });

  it('a credential signed with another secret: 401', async () => {
    const forged = await createCredentialSigner({ secret: 'x'.repeat(64), issuer: 'conversation' })(serviceIdentity('default'));
    const response = await billing.request(RESERVE, reserveVariables(newUserId()), null, { 'x-firefly-credential': forged });
    expect(response.status).toBe(401);
  });

  it('a signed-in user, even an ADMIN, is FORBIDDEN', async () => {
    const tenantId = newTenantId();
    for (const roles of [['USER'], ['ADMIN']] as const) {
      const response = await billing.request(RESERVE, reserveVariables(newUserId()), userIdentity(tenantId, newUserId(), [...roles]));
      expect(response.body.errors[0].extensions.code).toBe('FORBIDDEN');
      expect(response.body.data).toBeNull();
    }
    const grant = await billing.request(`mutation($u: ID!) { grantSignupCredits(userId: $u) { available } }`, { u: newUserId() }, userIdentity(tenantId, newUserId()));
    expect(grant.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('is absent from the composed public API schema', () => {
    const sdl = readFileSync(new URL('../../../../schema/supergraph.graphql', import.meta.url), 'utf8');
    const api = Supergraph.build(sdl).apiSchema().toGraphQLJSSchema();
    const mutations = Object.keys(api.getMutationType()!.getFields());
    const queries = Object.keys(api.getQueryType()!.getFields());
    for (const field of INTERNAL_FIELDS) {
      expect(mutations).not.toContain(field);
      expect(queries).not.toContain(field);
    }
    for (const type of ['Reservation', 'ReservationStatus', 'ReserveCreditsInput', 'ReserveChatCreditsInput']) expect(api.getType(type)).toBeUndefined();
    // …while the public billing API is there.
    expect(mutations).toContain('adjustCredits');
    expect(queries).toEqual(expect.arrayContaining(['products', 'order']));
  });
});

describe('the credits client against the real billing subgraph', () => {
  it('grant, quote, reserve, settle (twice), release: every step idempotent', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    expect(await client.grantSignupCredits({ tenantId, userId })).toEqual({ available: 100, reserved: 0 });
    expect(await client.grantSignupCredits({ tenantId, userId })).toEqual({ available: 100, reserved: 0 });

    const cost = await client.quoteChat({ tenantId, modelId: 'qwen-plus', inputTokens: 1500, outputTokens: 8192 });
    expect(cost).toBe(53); // 3 + 49.152 = 52.152 → 53
    expect(await client.quoteImage({ tenantId, modelId: 'wanx2.1-t2i-turbo', size: '1024*1024', count: 2 })).toBe(8);

    const reserveInput = { tenantId, userId, amount: cost, referenceId: 'msg-42', ttlSeconds: 120, idempotencyKey: `message:${randomUUID()}` };
    const reservation = await client.reserve(reserveInput);
    expect(reservation).toMatchObject({ userId, amount: 53, status: 'HELD', settledAmount: null, referenceId: 'msg-42' });
    expect((await client.reserve(reserveInput)).id).toBe(reservation.id);

    const settleInput = { tenantId, reservationId: reservation.id, actualAmount: 20, reason: 'CHAT_USAGE' as const };
    const settled = await Promise.all(Array.from({ length: 10 }, () => client.settle(settleInput)));
    expect(settled.every((r) => r.status === 'SETTLED' && r.settledAmount === 20 && r.shortfall === 0)).toBe(true);
    expect(await client.release({ tenantId, reservationId: reservation.id })).toMatchObject({ status: 'SETTLED' });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toEqual({ available: 80, reserved: 0, entries: 2 });
  });

  it('reserveChat prices the worst case and holds it in one call, idempotently; an unpriced model or too few credits hold nothing', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    await client.grantSignupCredits({ tenantId, userId });
    const usage = { modelId: 'qwen-plus', inputTokens: 1500, outputTokens: 8192 };
    const input = { tenantId, userId, ...usage, referenceId: 'msg-7', ttlSeconds: 120, idempotencyKey: `chat-message:${randomUUID()}` };
    const reservation = await client.reserveChat(input);
    // The amount chatCost quotes for the same usage, held as reserveCredits holds it.
    expect(reservation).toMatchObject({ userId, amount: await client.quoteChat({ tenantId, ...usage }), status: 'HELD', referenceId: 'msg-7' });
    expect(reservation.amount).toBe(53);
    const retries = await Promise.all(Array.from({ length: 5 }, () => client.reserveChat(input)));
    expect(retries.map((r) => r.id)).toEqual(Array(5).fill(reservation.id));
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 47, reserved: 53 });

    await expect(client.reserveChat({ ...input, modelId: 'no-such-model', idempotencyKey: randomUUID() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.reserveChat({ ...input, outputTokens: 100_000, idempotencyKey: randomUUID() })).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    // The same key for another answer is still refused.
    await expect(client.reserveChat({ ...input, referenceId: 'msg-8' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 47, reserved: 53 });
  });

  it('reserveImage prices count images and holds them in one call, idempotently; an unpriced model or too few credits hold nothing', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    await client.grantSignupCredits({ tenantId, userId });
    const images = { modelId: 'wanx2.1-t2i-turbo', size: '1024*1024', count: 3 };
    const input = { tenantId, userId, ...images, referenceId: 'job-7', ttlSeconds: 120, idempotencyKey: `image-job:${randomUUID()}` };
    const reservation = await client.reserveImage(input);
    // The amount imageCost quotes for the same images (count × the price per image), held as reserveCredits holds it.
    expect(reservation).toMatchObject({ userId, amount: await client.quoteImage({ tenantId, ...images }), status: 'HELD', referenceId: 'job-7' });
    expect(reservation.amount).toBe(12);
    const retries = await Promise.all(Array.from({ length: 5 }, () => client.reserveImage(input)));
    expect(retries.map((r) => r.id)).toEqual(Array(5).fill(reservation.id));
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 88, reserved: 12 });

    await expect(client.reserveImage({ ...input, modelId: 'no-such-model', idempotencyKey: randomUUID() })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.reserveImage({ ...input, count: 100, idempotencyKey: randomUUID() })).rejects.toMatchObject({ code: 'INSUFFICIENT_CREDITS' });
    // The same key for another job is still refused.
    await expect(client.reserveImage({ ...input, referenceId: 'job-8' })).rejects.toMatchObject({ code: 'CONFLICT' });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 88, reserved: 12 });
  });

  it('reserveImage of a free image model (price 0, as upsertImageModel and setTenantImagePrice allow) holds 0 credits and settles at 0', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `wanx-free-${randomUUID().slice(0, 8)}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setImagePrice({ tenantId, modelId, perImage: 0 });
    const input = { tenantId, userId, modelId, size: '1024*1024', count: 2, referenceId: 'job-free', ttlSeconds: 60, idempotencyKey: `image-job:${randomUUID()}` };
    const reservation = await client.reserveImage(input);
    expect(reservation).toMatchObject({ amount: 0, status: 'HELD', referenceId: 'job-free' });
    expect(await client.reserveImage(input)).toMatchObject({ id: reservation.id, amount: 0 });
    expect(await client.settle({ tenantId, reservationId: reservation.id, actualAmount: 0, reason: 'IMAGE_USAGE', referenceId: 'job-free' })).toMatchObject({ status: 'SETTLED' });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 100, reserved: 0 });
    // Chat keeps its floor of 1 credit (reserveChatCredits), and a plain reserveCredits still wants at least 1.
    await expect(client.reserve({ ...input, amount: 0, idempotencyKey: `image-job:${randomUUID()}` })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it("reserveImage retried after a price change returns the first attempt's hold, at the price it was made at", async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `image-${randomUUID()}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setImagePrice({ tenantId, modelId, perImage: 5 });
    const input = { tenantId, userId, modelId, size: '1024*1024', count: 2, referenceId: 'job-r', ttlSeconds: 60, idempotencyKey: `image-job:${randomUUID()}` };
    const first = await client.reserveImage(input);
    expect(first.amount).toBe(10);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.setImagePrice({ tenantId, modelId, perImage: 7 });
    expect(await client.reserveImage(input)).toMatchObject({ id: first.id, amount: 10, status: 'HELD' });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 90, reserved: 10 });
  });

  it('maps billing errors to AppError codes', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    await client.grantSignupCredits({ tenantId, userId });
    await expect(client.reserve({ tenantId, userId, amount: 101, referenceId: 'm', ttlSeconds: 60, idempotencyKey: randomUUID() })).rejects.toMatchObject({
      code: 'INSUFFICIENT_CREDITS',
      extensions: { available: 100, requested: 101 },
    });
    await expect(client.settle({ tenantId, reservationId: 'rsv_missing', actualAmount: 1, reason: 'CHAT_USAGE' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.quoteChat({ tenantId, modelId: 'no-such-model', inputTokens: 1, outputTokens: 1 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(client.reserve({ tenantId, userId, amount: 0, referenceId: 'm', ttlSeconds: 60, idempotencyKey: randomUUID() })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
  });

  it('the shortfall of a settlement above hold + available comes back to the caller', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    await client.grantSignupCredits({ tenantId, userId });
    const reservation = await client.reserve({ tenantId, userId, amount: 90, referenceId: 'job-1', ttlSeconds: 60, idempotencyKey: randomUUID() });
    expect(await client.settle({ tenantId, reservationId: reservation.id, actualAmount: 130, reason: 'IMAGE_USAGE' })).toMatchObject({ settledAmount: 100, shortfall: 30 });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 0, reserved: 0 });
  });

  it("a reservation is scoped to the credential's tenant", async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    await client.grantSignupCredits({ tenantId, userId });
    const reservation = await client.reserve({ tenantId, userId, amount: 5, referenceId: 'm', ttlSeconds: 60, idempotencyKey: randomUUID() });
    await expect(client.release({ tenantId: newTenantId(), reservationId: reservation.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const response = await billing.request(RESERVE, { input: { ...reserveVariables(userId).input, tenantId: newTenantId() } }, serviceIdentity(tenantId));
    expect(response.body.errors[0].extensions.code).toBe('FORBIDDEN');
  });

  it('a client with the wrong secret fails once, without retrying, as an internal error', async () => {
    const before = billing.queries.length;
    const wrong = createCreditsClient({ url: billing.url, secret: 'y'.repeat(64), service: 'image', retryDelayMs: 10 });
    await expect(wrong.grantSignupCredits({ tenantId: newTenantId(), userId: newUserId() })).rejects.toBeInstanceOf(BillingCallError);
    expect(billing.queries.length).toBe(before);
  });
});

describe('versioned prices', () => {
  it('a settlement is charged at the price in force when its credits were reserved, whatever changed since', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `priced-${randomUUID()}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setChatPrice({ tenantId, modelId, inputPer1kTokens: 10, outputPer1kTokens: 20 });
    const usage = { modelId, inputTokens: 1000, outputTokens: 1000 };
    expect(await client.quoteChat({ tenantId, ...usage })).toBe(30);

    const reservation = await client.reserve({ tenantId, userId, amount: 50, referenceId: 'msg-v', ttlSeconds: 60, idempotencyKey: randomUUID() });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.setChatPrice({ tenantId, modelId, inputPer1kTokens: 40, outputPer1kTokens: 40 });

    // Today's price for new work; the reservation's price for its settlement.
    expect(await client.quoteChat({ tenantId, ...usage })).toBe(80);
    const cost = await client.quoteChat({ tenantId, ...usage, reservationId: reservation.id });
    expect(cost).toBe(30);
    expect(await client.settle({ tenantId, reservationId: reservation.id, actualAmount: cost, reason: 'CHAT_USAGE' })).toMatchObject({ settledAmount: 30 });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 70, reserved: 0 });

    // A reservation made after the change pays the new price.
    const later = await client.reserve({ tenantId, userId, amount: 50, referenceId: 'msg-w', ttlSeconds: 60, idempotencyKey: randomUUID() });
    expect(await client.quoteChat({ tenantId, ...usage, reservationId: later.id })).toBe(80);
    // Another tenant's reservation cannot be named.
    await expect(client.quoteChat({ tenantId: newTenantId(), ...usage, reservationId: later.id })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it("reserveChat retried after a price change returns the first attempt's hold, at the price it was made at", async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `priced-${randomUUID()}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setChatPrice({ tenantId, modelId, inputPer1kTokens: 10, outputPer1kTokens: 20 });
    const input = { tenantId, userId, modelId, inputTokens: 1000, outputTokens: 1000, referenceId: 'msg-r', ttlSeconds: 60, idempotencyKey: `chat-message:${randomUUID()}` };
    const first = await client.reserveChat(input);
    expect(first.amount).toBe(30);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.setChatPrice({ tenantId, modelId, inputPer1kTokens: 40, outputPer1kTokens: 40 });
    expect(await client.reserveChat(input)).toMatchObject({ id: first.id, amount: 30, status: 'HELD' });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 70, reserved: 30 });
  });

  it('a chat hold is settled at the price it was priced at, even when the price changed before billing stamped the hold', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `priced-${randomUUID()}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setChatPrice({ tenantId, modelId, inputPer1kTokens: 10, outputPer1kTokens: 20 });
    // The race by hand: reserveChatCredits reads the price, the price changes, and only then is the hold stamped.
    const prices = createPriceSource(billing.db);
    const racing: PriceSource = {
      ...prices,
      async findChatPrice(...args) {
        const price = await prices.findChatPrice(...args);
        await prices.setChatPrice(modelId, { inputPer1kTokens: 40, outputPer1kTokens: 40 }, new Date());
        await new Promise((resolve) => setTimeout(resolve, 5));
        return price;
      },
    };
    const hold = await reserveChatCredits(billingScope(billing.db), racing, {
      tenantId,
      userId,
      modelId,
      inputTokens: 1000,
      outputTokens: 1000,
      referenceId: 'msg-p',
      ttlSeconds: 60,
      idempotencyKey: `chat-message:${randomUUID()}`,
    });
    expect(hold.amount).toBe(30);
    expect(await client.quoteChat({ tenantId, modelId, inputTokens: 1000, outputTokens: 1000 })).toBe(80);

    // The settlement as conversation makes it: quoted with the reservation, then settled. The worst case costs what was held.
    const cost = await client.quoteChat({ tenantId, modelId, inputTokens: 1000, outputTokens: 1000, reservationId: hold.id });
    expect(cost).toBe(30);
    expect(await client.settle({ tenantId, reservationId: hold.id, actualAmount: cost, reason: 'CHAT_USAGE' })).toMatchObject({ settledAmount: 30, shortfall: 0 });
    expect(await expectLedgerInvariant(billing.db, tenantId, userId)).toMatchObject({ available: 70, reserved: 0 });
    // The held price is for the held model: another model named with the reservation is priced as before.
    await expect(client.quoteChat({ tenantId, modelId: `unpriced-${randomUUID()}`, inputTokens: 1, outputTokens: 1, reservationId: hold.id })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('a seeded price keeps applying to reservations made before its first change; images alike', async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `image-${randomUUID()}`;
    // A price that predates versioning: only the current row, no version.
    await billing.db.imagePrice.create({ data: { modelId, size: '*', perImage: 4 } });
    await client.grantSignupCredits({ tenantId, userId });
    const reservation = await client.reserve({ tenantId, userId, amount: 8, referenceId: 'job-v', ttlSeconds: 60, idempotencyKey: randomUUID() });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await client.setImagePrice({ tenantId, modelId, perImage: 9 });
    expect(await client.quoteImage({ tenantId, modelId, size: '1024*1024', count: 2 })).toBe(18);
    expect(await client.quoteImage({ tenantId, modelId, size: '1024*1024', count: 2, reservationId: reservation.id })).toBe(8);
  });

  it('refuses a bad price naming the field', async () => {
    await expect(client.setChatPrice({ tenantId: newTenantId(), modelId: 'm', inputPer1kTokens: -1, outputPer1kTokens: 1 })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      extensions: { field: 'inputPer1kTokens' },
    });
  });
});

describe("a tenant's own prices (setTenantChatPrice, setTenantImagePrice)", () => {
  const SET_CHAT = 'mutation S($input: TenantChatPriceInput!) { setTenantChatPrice(input: $input) { tenantId modelId inputPricePer1k outputPricePer1k validFrom } }';
  const SET_IMAGE = 'mutation S($input: TenantImagePriceInput!) { setTenantImagePrice(input: $input) { tenantId modelId pricePerImage validFrom } }';
  const platformAdmin = () => userIdentity('default', newUserId(), ['USER', 'ADMIN']);
  const setChat = async (input: Record<string, unknown>) => {
    const response = await billing.request(SET_CHAT, { input }, platformAdmin());
    expect(response.body.errors).toBeUndefined();
    return response.body.data.setTenantChatPrice;
  };
  const pause = () => new Promise((resolve) => setTimeout(resolve, 5));

  it("a reservation of the tenant is priced at the tenant's price in force when it was made; other tenants pay the platform's", async () => {
    const tenantId = newTenantId();
    const other = newTenantId();
    const userId = newUserId();
    const modelId = `priced-${randomUUID()}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setChatPrice({ tenantId: 'default', modelId, inputPer1kTokens: 10, outputPer1kTokens: 20 });
    const usage = { modelId, inputTokens: 1000, outputTokens: 1000 };

    expect(await setChat({ tenantId, modelId, inputPricePer1k: 1, outputPricePer1k: 2 })).toMatchObject({ tenantId, modelId, inputPricePer1k: 1, outputPricePer1k: 2 });
    expect(await client.quoteChat({ tenantId, ...usage })).toBe(3);
    expect(await client.quoteChat({ tenantId: other, ...usage })).toBe(30);
    expect(await client.quoteChat({ tenantId: 'default', ...usage })).toBe(30);
    const first = await client.reserveChat({ tenantId, userId, ...usage, referenceId: 'msg-t1', ttlSeconds: 60, idempotencyKey: `chat-message:${randomUUID()}` });
    expect(first.amount).toBe(3);

    // The tenant's price changes, then the platform's: new work pays the tenant's new price, the reservation its own.
    await pause();
    await setChat({ tenantId, modelId, inputPricePer1k: 4, outputPricePer1k: 4 });
    await client.setChatPrice({ tenantId: 'default', modelId, inputPer1kTokens: 40, outputPer1kTokens: 40 });
    expect(await client.quoteChat({ tenantId, ...usage })).toBe(8);
    expect(await client.quoteChat({ tenantId: other, ...usage })).toBe(80);
    expect(await client.quoteChat({ tenantId, ...usage, reservationId: first.id })).toBe(3);

    // Ended (both prices null): the platform's price again, for new work only.
    await pause();
    expect(await setChat({ tenantId, modelId, inputPricePer1k: null, outputPricePer1k: null })).toBeNull();
    expect(await client.quoteChat({ tenantId, ...usage })).toBe(80);
    expect(await client.quoteChat({ tenantId, ...usage, reservationId: first.id })).toBe(3);
    const later = await client.reserve({ tenantId, userId, amount: 1, referenceId: 'msg-t2', ttlSeconds: 60, idempotencyKey: randomUUID() });
    expect(await client.quoteChat({ tenantId, ...usage, reservationId: later.id })).toBe(80);

    const events = await billing.db.auditEvent.findMany({ where: { action: 'setTenantChatPrice', targetId: modelId }, orderBy: { createdAt: 'asc' } });
    expect(events.map((event) => JSON.parse(event.details!))).toEqual([
      { tenantId, before: null, after: { inputPricePer1k: 1, outputPricePer1k: 2 } },
      { tenantId, before: { inputPricePer1k: 1, outputPricePer1k: 2 }, after: { inputPricePer1k: 4, outputPricePer1k: 4 } },
      { tenantId, before: { inputPricePer1k: 4, outputPricePer1k: 4 }, after: null },
    ]);
    expect(events.every((event) => event.tenantId === 'default' && event.targetType === 'ChatModel')).toBe(true);
  });

  it("an image model's price per image: every size, versioned the same way", async () => {
    const tenantId = newTenantId();
    const userId = newUserId();
    const modelId = `image-${randomUUID()}`;
    await client.grantSignupCredits({ tenantId, userId });
    await client.setImagePrice({ tenantId: 'default', modelId, perImage: 9 });
    const set = async (pricePerImage: number | null) => (await billing.request(SET_IMAGE, { input: { tenantId, modelId, pricePerImage } }, platformAdmin())).body.data.setTenantImagePrice;
    expect(await set(2)).toMatchObject({ tenantId, modelId, pricePerImage: 2 });
    expect(await client.quoteImage({ tenantId, modelId, size: '1024*1024', count: 3 })).toBe(6);
    expect(await client.quoteImage({ tenantId, modelId, size: '720*1280', count: 1 })).toBe(2);
    expect(await client.quoteImage({ tenantId: newTenantId(), modelId, size: '1024*1024', count: 3 })).toBe(27);
    const reservation = await client.reserve({ tenantId, userId, amount: 6, referenceId: 'job-t', ttlSeconds: 60, idempotencyKey: randomUUID() });
    await pause();
    expect(await set(null)).toBeNull();
    expect(await client.quoteImage({ tenantId, modelId, size: '1024*1024', count: 3 })).toBe(27);
    expect(await client.quoteImage({ tenantId, modelId, size: '1024*1024', count: 3, reservationId: reservation.id })).toBe(6);
    expect(await billing.db.auditEvent.count({ where: { action: 'setTenantImagePrice', targetId: modelId } })).toBe(2);
  });

  it('only platform admins; bad input names the field; a model without a platform price is NOT_FOUND', async () => {
    const tenantId = newTenantId();
    const modelId = `priced-${randomUUID()}`;
    await client.setChatPrice({ tenantId: 'default', modelId, inputPer1kTokens: 10, outputPer1kTokens: 20 });
    const input = { tenantId, modelId, inputPricePer1k: 1, outputPricePer1k: 2 };
    const codeFor = async (variables: Record<string, unknown>, identity = platformAdmin()) => (await billing.request(SET_CHAT, { input: variables }, identity)).body.errors?.[0]?.extensions;
    expect(await codeFor(input, userIdentity(tenantId, newUserId(), ['USER', 'ADMIN']))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await codeFor(input, userIdentity('default', newUserId(), ['USER']))).toMatchObject({ code: 'FORBIDDEN' });
    expect(await codeFor({ ...input, tenantId: 'default' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tenantId' });
    expect(await codeFor({ ...input, tenantId: 'Not Valid' })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'tenantId' });
    expect(await codeFor({ ...input, outputPricePer1k: null })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'outputPricePer1k' });
    expect(await codeFor({ ...input, inputPricePer1k: -1 })).toMatchObject({ code: 'BAD_USER_INPUT', field: 'inputPricePer1k' });
    expect(await codeFor({ ...input, modelId: 'no-such-model' })).toMatchObject({ code: 'NOT_FOUND' });
    const image = await billing.request(SET_IMAGE, { input: { tenantId, modelId: 'no-such-model', pricePerImage: 1 } }, platformAdmin());
    expect(image.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await billing.db.tenantChatPriceVersion.count({ where: { tenantId } })).toBe(0);
    expect(await billing.db.auditEvent.count({ where: { action: 'setTenantChatPrice', targetId: modelId } })).toBe(0);
  });
});
