import { createDecipheriv, createSign, createVerify, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateRsaKeyPair } from '../crypto.ts';
import { generatePaymentKeySet, simulatorKeysOf, startPaymentSimulator, type PaymentKeySet, type PaymentSimulator } from '../index.ts';

// The simulator checked with independently written signing code (node:crypto), so a mistake shared with the SDKs
// billing uses would show up here. The SDKs themselves are driven against it by the billing subgraph's tests.

let keys: PaymentKeySet;
let sim: PaymentSimulator;
let merchant: Server;
let merchantUrl: string;
const received: Array<{ path: string; headers: Record<string, string | string[] | undefined>; body: string }> = [];
let answers: Array<{ status: number; body: string }> = [];

beforeAll(async () => {
  keys = generatePaymentKeySet();
  sim = await startPaymentSimulator({ ...simulatorKeysOf(keys), notifyRetryMs: [20, 20, 20, 20] });
  merchant = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body });
      const answer = answers.shift() ?? { status: 200, body: 'success' };
      res.writeHead(answer.status, { 'content-type': 'text/plain' }).end(answer.body);
    });
  });
  await new Promise<void>((resolve) => merchant.listen(0, '127.0.0.1', resolve));
  merchantUrl = `http://127.0.0.1:${(merchant.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => merchant.close(resolve));
});

const rsa = (message: string, key: string) => createSign('RSA-SHA256').update(message).sign(key, 'base64');
const verify = (message: string, signature: string, key: string) => createVerify('RSA-SHA256').update(message).verify(key, signature, 'base64');

async function alipayV3(path: string, body: object, privateKey = keys.alipay.appPrivateKey) {
  const json = JSON.stringify(body);
  const authString = `app_id=${keys.alipay.appId},nonce=${randomUUID()},timestamp=${Date.now()}`;
  const sign = rsa(`${authString}\nPOST\n${path}\n${json}\n`, privateKey);
  const response = await fetch(`${sim.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `ALIPAY-SHA256withRSA ${authString},sign=${sign}` }, body: json });
  const text = await response.text();
  const h = response.headers;
  const signed = verify(`${h.get('alipay-timestamp')}\n${h.get('alipay-nonce')}\n${text}\n`, h.get('alipay-signature') ?? '', keys.alipay.alipayPublicKey);
  return { status: response.status, data: JSON.parse(text), signed };
}

async function wechat(method: 'GET' | 'POST', path: string, body?: object, privateKey = keys.wechat.merchantPrivateKey) {
  const json = body ? JSON.stringify(body) : '';
  const timestamp = Math.floor(Date.now() / 1000);
  const nonce = randomUUID().replace(/-/g, '');
  const signature = rsa(`${method}\n${path}\n${timestamp}\n${nonce}\n${json}\n`, privateKey);
  const authorization = `WECHATPAY2-SHA256-RSA2048 mchid="${keys.wechat.mchid}",nonce_str="${nonce}",signature="${signature}",timestamp="${timestamp}",serial_no="${keys.wechat.merchantSerial}"`;
  const response = await fetch(`${sim.url}${path}`, { method, headers: { 'content-type': 'application/json', authorization }, ...(body ? { body: json } : {}) });
  const text = await response.text();
  const h = response.headers;
  const signed = verify(`${h.get('wechatpay-timestamp')}\n${h.get('wechatpay-nonce')}\n${text}\n`, h.get('wechatpay-signature') ?? '', keys.wechat.platformPublicKey);
  return { status: response.status, data: text ? JSON.parse(text) : null, signed, serial: h.get('wechatpay-serial') };
}

describe('Alipay', () => {
  it('serves a correctly signed precreate and signs its answer; refuses a request signed with another key', async () => {
    const ok = await alipayV3('/v3/alipay/trade/precreate', { out_trade_no: 'A1', total_amount: '9.90', subject: 'x', notify_url: `${merchantUrl}/alipay` });
    expect(ok).toMatchObject({ status: 200, signed: true, data: { out_trade_no: 'A1' } });
    const forged = await alipayV3('/v3/alipay/trade/precreate', { out_trade_no: 'A2', total_amount: '9.90', subject: 'x', notify_url: `${merchantUrl}/alipay` }, generateRsaKeyPair().privateKey);
    expect(forged).toMatchObject({ status: 401, data: { code: 'invalid-signature' } });
    expect(sim.trade('A2')).toBeUndefined();
  });

  it('reports an unscanned QR code as not existing; refuses refunds above what was paid', async () => {
    await alipayV3('/v3/alipay/trade/precreate', { out_trade_no: 'A3', total_amount: '1.00', subject: 'x', notify_url: `${merchantUrl}/alipay` });
    expect((await alipayV3('/v3/alipay/trade/query', { out_trade_no: 'A3' })).data.code).toBe('ACQ.TRADE_NOT_EXIST');
    answers = [];
    await sim.pay('A3');
    const query = await alipayV3('/v3/alipay/trade/query', { out_trade_no: 'A3' });
    expect(query.data).toMatchObject({ trade_status: 'TRADE_SUCCESS', total_amount: '1.00' });
    expect((await alipayV3('/v3/alipay/trade/refund', { out_trade_no: 'A3', refund_amount: '0.60', out_request_no: 'r1' })).data).toMatchObject({ fund_change: 'Y', refund_fee: '0.60' });
    expect((await alipayV3('/v3/alipay/trade/refund', { out_trade_no: 'A3', refund_amount: '0.60', out_request_no: 'r1' })).data).toMatchObject({ fund_change: 'N', refund_fee: '0.60' });
    expect((await alipayV3('/v3/alipay/trade/refund', { out_trade_no: 'A3', refund_amount: '0.50', out_request_no: 'r2' })).data.code).toBe('ACQ.REASON_TRADE_REFUND_FEE_ERR');
    expect((await alipayV3('/v3/alipay/trade/refund', { out_trade_no: 'A3', refund_amount: '0.40', out_request_no: 'r3' })).data.refund_fee).toBe('1.00');
    expect(sim.trade('A3')?.state).toBe('TRADE_CLOSED');
  });

  it('re-sends the signed notification with the same notify_id until the answer is exactly "success"', async () => {
    received.splice(0);
    answers = [{ status: 200, body: 'fail' }, { status: 500, body: 'oops' }, { status: 200, body: 'success ' }];
    await alipayV3('/v3/alipay/trade/precreate', { out_trade_no: 'A4', total_amount: '9.90', subject: '100 credits', notify_url: `${merchantUrl}/alipay` });
    await sim.pay('A4');
    await expect.poll(() => sim.notifications().find((n) => n.outTradeNo === 'A4')?.acknowledged, { timeout: 5_000 }).toBe(true);
    const deliveries = received.filter((r) => r.path === '/alipay');
    expect(deliveries).toHaveLength(4);
    const forms = deliveries.map((d) => Object.fromEntries(new URLSearchParams(d.body)));
    expect(new Set(forms.map((f) => f.notify_id)).size).toBe(1);
    const { sign, sign_type: signType, ...fields } = forms[0]!;
    expect(signType).toBe('RSA2');
    const signString = Object.keys(fields).sort().map((k) => `${k}=${fields[k]}`).join('&');
    expect(verify(signString, sign!, keys.alipay.alipayPublicKey)).toBe(true);
    expect(fields).toMatchObject({ app_id: keys.alipay.appId, out_trade_no: 'A4', total_amount: '9.90', trade_status: 'TRADE_SUCCESS' });
  });
});

describe('WeChat Pay', () => {
  it('serves a signed Native order, signs every answer with the platform key, and refuses a foreign signature', async () => {
    const body = { appid: keys.wechat.appid, mchid: keys.wechat.mchid, description: 'x', out_trade_no: 'W000001', notify_url: `${merchantUrl}/wechat`, amount: { total: 990, currency: 'CNY' } };
    const ok = await wechat('POST', '/v3/pay/transactions/native', body);
    expect(ok).toMatchObject({ status: 200, signed: true, serial: keys.wechat.platformPublicKeyId });
    expect(ok.data.code_url).toMatch(/^weixin:\/\/wxpay\/bizpayurl\?pr=/);
    expect((await wechat('POST', '/v3/pay/transactions/native', body)).data.code_url).toBe(ok.data.code_url);
    expect((await wechat('POST', '/v3/pay/transactions/native', { ...body, amount: { total: 1, currency: 'CNY' } })).status).toBe(400);
    const forged = await wechat('GET', `/v3/pay/transactions/out-trade-no/W000001?mchid=${keys.wechat.mchid}`, undefined, generateRsaKeyPair().privateKey);
    expect(forged).toMatchObject({ status: 401, signed: true, data: { code: 'SIGN_ERROR' } });
    expect((await wechat('GET', `/v3/pay/transactions/out-trade-no/NOPE01?mchid=${keys.wechat.mchid}`)).data.code).toBe('ORDER_NOT_EXIST');
  });

  it('notifies a payment with an AES-256-GCM resource the APIv3 key decrypts, until answered 200/204', async () => {
    received.splice(0);
    answers = [{ status: 500, body: '{"code":"FAIL"}' }, { status: 204, body: '' }];
    const body = { appid: keys.wechat.appid, mchid: keys.wechat.mchid, description: 'x', out_trade_no: 'W000002', notify_url: `${merchantUrl}/wechat`, amount: { total: 600, currency: 'CNY' } };
    await wechat('POST', '/v3/pay/transactions/native', body);
    await sim.pay('W000002');
    await expect.poll(() => sim.notifications().find((n) => n.outTradeNo === 'W000002')?.acknowledged, { timeout: 5_000 }).toBe(true);
    const deliveries = received.filter((r) => r.path === '/wechat');
    expect(deliveries).toHaveLength(2);
    const { headers, body: raw } = deliveries[1]!;
    expect(verify(`${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n${raw}\n`, String(headers['wechatpay-signature']), keys.wechat.platformPublicKey)).toBe(true);
    const { resource } = JSON.parse(raw);
    const data = Buffer.from(resource.ciphertext, 'base64');
    const decipher = createDecipheriv('aes-256-gcm', Buffer.from(keys.wechat.apiV3Key), Buffer.from(resource.nonce));
    decipher.setAuthTag(data.subarray(-16));
    decipher.setAAD(Buffer.from(resource.associated_data));
    const plain = JSON.parse(Buffer.concat([decipher.update(data.subarray(0, -16)), decipher.final()]).toString('utf8'));
    expect(plain).toMatchObject({ out_trade_no: 'W000002', trade_state: 'SUCCESS', mchid: keys.wechat.mchid, amount: { total: 600 } });

    const closed = await wechat('POST', '/v3/pay/transactions/out-trade-no/W000002/close', { mchid: keys.wechat.mchid });
    expect(closed.status).toBe(400);
  });
});
