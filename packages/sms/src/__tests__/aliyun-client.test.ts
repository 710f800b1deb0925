import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import * as Dysmsapi from '@alicloud/dysmsapi20170525';
import * as OpenApi from '@alicloud/openapi-core';
import { createAliyunSmsClient, createAliyunSmsProvider, createConsoleSmsProvider, createSmsProvider, SmsError, smsConfigProblems, type SmsConfig } from '../index.ts';
import { startAliyunSmsDouble, type AliyunSmsDouble } from '../double/index.ts';

let double: AliyunSmsDouble;

beforeAll(async () => {
  double = await startAliyunSmsDouble({ templates: { SMS_000000001: ['code'], SMS_000000002: ['code', 'minutes'] } });
});
afterAll(async () => {
  await double.close();
});
beforeEach(() => double.reset());

const client = () => createAliyunSmsClient({ accessKeyId: double.accessKeyId, accessKeySecret: double.accessKeySecret, endpoint: double.url, timeoutMs: 500 });
const send = (phone: string, overrides: Partial<Parameters<ReturnType<typeof client>['sendSms']>[0]> = {}) =>
  client().sendSms({ phoneNumbers: phone, signName: double.signName, templateCode: double.templateCode, templateParam: { code: '246810' }, ...overrides });

async function failure(promise: Promise<unknown>): Promise<SmsError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(SmsError);
    return error as SmsError;
  }
  throw new Error('expected the send to fail');
}

describe('the Aliyun SMS client against the local double', () => {
  it('signs a SendSms request the double accepts, and the double records the code', async () => {
    const result = await send('13800001111');
    expect(result.bizId).toMatch(/^\d+\^0$/);
    expect(result.requestId).toMatch(/^[0-9A-F-]{36}$/);
    expect(double.lastCode('13800001111')).toBe('246810');
    expect(double.messages('+8613800001111')).toEqual([
      expect.objectContaining({ phone: '13800001111', signName: '萤火AI', templateCode: 'SMS_000000001', params: { code: '246810' } }),
    ]);
  });

  it('serves recorded messages over HTTP for out-of-process readers', async () => {
    await send('13800002222');
    const response = await fetch(`${double.url}/__double/messages?phone=13800002222`);
    const body = (await response.json()) as { messages: Array<{ params: { code: string } }> };
    expect(body.messages.map((m) => m.params.code)).toEqual(['246810']);
  });

  it('the double accepts the official SDK too (so its signature check is the real one, not a mirror of ours)', async () => {
    type SdkClient = new (config: unknown) => { sendSms(request: unknown): Promise<{ body: { code: string } }> };
    // A CommonJS module whose default export is itself `{ default: Client }`: the interop layer decides the depth.
    const exported = (Dysmsapi as unknown as { default: SdkClient | { default: SdkClient } }).default;
    const Client = typeof exported === 'function' ? exported : exported.default;
    const sdk = new Client(
      new OpenApi.$OpenApiUtil.Config({ accessKeyId: double.accessKeyId, accessKeySecret: double.accessKeySecret, endpoint: double.url.replace('http://', ''), protocol: 'http' }),
    );
    const response = await sdk.sendSms(
      new Dysmsapi.SendSmsRequest({ phoneNumbers: '13800003333', signName: double.signName, templateCode: double.templateCode, templateParam: JSON.stringify({ code: '135790' }) }),
    );
    expect(response.body.code).toBe('OK');
    expect(double.lastCode('13800003333')).toBe('135790');
  });

  it('refuses a wrong secret and an unknown access key', async () => {
    const wrongSecret = createAliyunSmsClient({ accessKeyId: double.accessKeyId, accessKeySecret: 'not-the-secret', endpoint: double.url });
    const bad = await failure(wrongSecret.sendSms({ phoneNumbers: '13800004444', signName: double.signName, templateCode: double.templateCode, templateParam: { code: '1' } }));
    expect(bad).toMatchObject({ kind: 'rejected', providerCode: 'SignatureDoesNotMatch' });
    const unknown = createAliyunSmsClient({ accessKeyId: 'nobody', accessKeySecret: 'x', endpoint: double.url });
    const missing = await failure(unknown.sendSms({ phoneNumbers: '13800004444', signName: double.signName, templateCode: double.templateCode, templateParam: { code: '1' } }));
    expect(missing).toMatchObject({ kind: 'rejected', providerCode: 'InvalidAccessKeyId.NotFound' });
    expect(double.messages()).toEqual([]);
  });

  it('refuses a request whose parameters were changed after signing, and a replayed nonce', async () => {
    const signed: { url?: string; init?: RequestInit } = {};
    const realFetch = globalThis.fetch;
    globalThis.fetch = (async (url: string | URL, init?: RequestInit) => {
      signed.url = String(url);
      signed.init = init;
      return realFetch(url, init);
    }) as typeof fetch;
    try {
      await send('13800005555');
    } finally {
      globalThis.fetch = realFetch;
    }
    const replay = await realFetch(signed.url!, { ...signed.init, signal: null });
    expect(((await replay.json()) as { Code: string }).Code).toBe('SignatureNonceUsed');
    const tampered = await realFetch(signed.url!.replace('13800005555', '13800006666'), { ...signed.init, signal: null });
    expect(tampered.status).toBe(400);
    expect(((await tampered.json()) as { Code: string }).Code).toBe('SignatureDoesNotMatch');
    expect(double.messages('13800006666')).toEqual([]);
  });

  it('maps business errors (HTTP 200, Code != OK) to typed errors', async () => {
    expect(await failure(send('12345'))).toMatchObject({ kind: 'invalid-number', providerCode: 'isv.MOBILE_NUMBER_ILLEGAL' });
    expect(await failure(send('13800007777', { signName: '别人的签名' }))).toMatchObject({ kind: 'rejected', providerCode: 'isv.SMS_SIGNATURE_ILLEGAL' });
    expect(await failure(send('13800007777', { templateCode: 'SMS_404' }))).toMatchObject({ kind: 'rejected', providerCode: 'isv.SMS_TEMPLATE_ILLEGAL' });
    expect(await failure(send('13800007777', { templateCode: 'SMS_000000002' }))).toMatchObject({ providerCode: 'isv.TEMPLATE_MISSING_PARAMETERS' });
  });

  it("applies Aliyun's flow control per signature and number (1 per minute)", async () => {
    await send('13800008888');
    const limited = await failure(send('13800008888'));
    expect(limited).toMatchObject({ kind: 'throttled', providerCode: 'isv.BUSINESS_LIMIT_CONTROL' });
    expect(limited.message).toContain('分钟级流控');
    await send('13800009999');
  });

  it('turns HTTP 500, throttling and timeouts into retryable errors', async () => {
    double.injectFault('http-500');
    expect(await failure(send('13900000001'))).toMatchObject({ kind: 'unavailable', providerCode: 'InternalError' });
    double.injectFault('throttling');
    expect(await failure(send('13900000002'))).toMatchObject({ kind: 'throttled', providerCode: 'Throttling.User' });
    double.injectFault('timeout');
    expect(await failure(send('13900000003'))).toMatchObject({ kind: 'unavailable', providerCode: 'TIMEOUT' });
    expect(double.messages()).toEqual([]);
  });

  it('the provider sends the code through the configured template', async () => {
    const provider = createAliyunSmsProvider({
      accessKeyId: double.accessKeyId,
      accessKeySecret: double.accessKeySecret,
      endpoint: double.url,
      signName: double.signName,
      templateCode: double.templateCode,
    });
    const receipt = await provider.sendVerificationCode({ phone: '13912345678', code: '000123' });
    expect(receipt.messageId).toMatch(/\^0$/);
    expect(double.lastCode('13912345678')).toBe('000123');
  });
});

describe('provider selection', () => {
  const base: SmsConfig = { NODE_ENV: 'development', SMS_PROVIDER: 'console', ALIYUN_SMS_ENDPOINT: 'https://dysmsapi.aliyuncs.com', ALIYUN_SMS_TIMEOUT_MS: 5000 };

  it('refuses the console provider in production', () => {
    expect(smsConfigProblems({ ...base, NODE_ENV: 'production' })).toEqual([expect.stringContaining('SMS_PROVIDER')]);
    expect(() => createSmsProvider({ ...base, NODE_ENV: 'production' })).toThrow(/console/);
    expect(() => createConsoleSmsProvider({ nodeEnv: 'production' })).toThrow(/development only/);
  });

  it('requires the Aliyun credentials, signature and template', () => {
    expect(smsConfigProblems({ ...base, SMS_PROVIDER: 'aliyun' })).toHaveLength(4);
    expect(createSmsProvider({ ...base, SMS_PROVIDER: 'aliyun', ALIYUN_SMS_ACCESS_KEY_ID: 'a', ALIYUN_SMS_ACCESS_KEY_SECRET: 'b', ALIYUN_SMS_SIGN_NAME: 'c', ALIYUN_SMS_TEMPLATE_CODE: 'd' }).name).toBe('aliyun');
  });

  it('the console provider writes the code to its own stream, outside the logger', async () => {
    const lines: string[] = [];
    const provider = createConsoleSmsProvider({ nodeEnv: 'development', write: (line) => lines.push(line) });
    await provider.sendVerificationCode({ phone: '13800000000', code: '123456' });
    expect(lines.join('')).toContain('123456');
  });
});
