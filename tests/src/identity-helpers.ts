// Shared pieces of the identity e2e scenarios (tests/e2e/identity/): a supergraph whose user subgraph sends
// SMS through the real Aliyun client to the local Dysmsapi double, the operations, and generators of unique
// emails, phones and client IPs so that files running in parallel never share a counter.
import { randomInt, randomUUID } from 'node:crypto';
import { expect } from 'vitest';
import { hashRefreshToken } from '@firefly/auth';
import { startAliyunSmsDouble, type AliyunSmsDouble } from '@firefly/sms/double';
import type { Logger } from '@firefly/logger';
import type { SessionHooks } from '@firefly/subgraph-user';
import { startSupergraph, type GraphQLResponse, type Supergraph } from './harness.ts';

export interface IdentitySupergraph extends Supergraph {
  sms: AliyunSmsDouble;
}

/**
 * The supergraph with SMS_PROVIDER=aliyun pointed at the double. `env` adds overrides (short windows, small caps).
 * The double's own flow control is relaxed: these tests exercise our limits, not Aliyun's (those have unit tests).
 */
export async function startIdentitySupergraph(options: { env?: Record<string, string>; logger?: Logger; userHooks?: SessionHooks } = {}): Promise<IdentitySupergraph> {
  const sms = await startAliyunSmsDouble({ limits: { perMinute: 1_000, perHour: 1_000, perDay: 1_000 } });
  const sg = await startSupergraph({
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.userHooks ? { userHooks: options.userHooks } : {}),
    env: {
      // The gateway's graphql-ws server listens for revocations on this run's Redis prefix.
      ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
      ...(process.env.REDIS_KEY_PREFIX ? { REDIS_KEY_PREFIX: process.env.REDIS_KEY_PREFIX } : {}),
      SMS_PROVIDER: 'aliyun',
      ALIYUN_SMS_ENDPOINT: sms.url,
      ALIYUN_SMS_ACCESS_KEY_ID: sms.accessKeyId,
      ALIYUN_SMS_ACCESS_KEY_SECRET: sms.accessKeySecret,
      ALIYUN_SMS_SIGN_NAME: sms.signName,
      ALIYUN_SMS_TEMPLATE_CODE: sms.templateCode,
      ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE: sms.orderPaidTemplateCode,
      ...options.env,
    },
  });
  return {
    ...sg,
    sms,
    async stop() {
      await sg.stop();
      await sms.close();
    },
  };
}

export const uniqueEmail = (tag = 'u') => `${tag}-${randomUUID().slice(0, 12)}@example.com`;
/** A fresh mainland number (139 + 8 random digits). */
export const uniquePhone = () => `139${String(randomInt(0, 100_000_000)).padStart(8, '0')}`;
/** A fresh client IP, sent as X-Forwarded-For (the harness gateway trusts its loopback proxy). */
export const uniqueIp = () => `10.${randomInt(0, 256)}.${randomInt(0, 256)}.${randomInt(1, 255)}`;
export const STRONG_PASSWORD = 'correct horse battery staple';

const AUTH_FIELDS = 'accessToken refreshToken expiresIn user { id displayName email phone roles status }';

export const REGISTER = `mutation Register($input: RegisterInput!) { register(input: $input) { ${AUTH_FIELDS} } }`;
export const LOGIN = `mutation Login($input: LoginInput!) { login(input: $input) { ${AUTH_FIELDS} } }`;
export const REQUEST_SMS = `mutation RequestSms($phone: String!, $purpose: SmsPurpose!) { requestSmsCode(phone: $phone, purpose: $purpose) { cooldownSeconds } }`;
export const LOGIN_SMS = `mutation LoginSms($phone: String!, $code: String!) { loginWithSmsCode(phone: $phone, code: $code) { ${AUTH_FIELDS} } }`;
export const REFRESH = `mutation Refresh($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { ${AUTH_FIELDS} } }`;
export const ME = `{ me { id displayName email phone roles status } }`;

export interface Client {
  ip: string;
  call(query: string, variables?: Record<string, unknown>, token?: string, headers?: Record<string, string>): Promise<GraphQLResponse>;
}

/** A client with its own IP (and optionally tenant). */
export function clientOf(sg: Supergraph, options: { ip?: string; tenant?: string } = {}): Client {
  const ip = options.ip ?? uniqueIp();
  return {
    ip,
    call: (query, variables, token, headers) =>
      sg.request(query, {
        ...(variables ? { variables } : {}),
        ...(token ? { token } : {}),
        headers: { 'x-forwarded-for': ip, ...(options.tenant ? { 'x-tenant-id': options.tenant } : {}), ...headers },
      }),
  };
}

export function codeOf(response: GraphQLResponse): string | undefined {
  return response.body.errors?.[0]?.extensions?.code as string | undefined;
}

export function expectOk(response: GraphQLResponse): Record<string, any> {
  expect(response.body.errors, JSON.stringify(response.body.errors)).toBeUndefined();
  return response.body.data!;
}

export interface SignedIn {
  accessToken: string;
  refreshToken: string;
  user: { id: string; email: string | null; phone: string | null; roles: string[] };
}

export async function registerWithEmail(client: Client, overrides: Record<string, unknown> = {}): Promise<SignedIn & { email: string; password: string }> {
  const email = uniqueEmail();
  const input = { email, password: STRONG_PASSWORD, displayName: 'Test User', ...overrides };
  const data = expectOk(await client.call(REGISTER, { input }));
  return { ...data.register, email: input.email as string, password: input.password as string };
}

export async function requestCode(sg: IdentitySupergraph, client: Client, phone: string, purpose: 'REGISTER' | 'LOGIN' | 'RESET_PASSWORD' = 'REGISTER'): Promise<string> {
  expectOk(await client.call(REQUEST_SMS, { phone, purpose }));
  const code = sg.sms.lastCode(phone.replace(/[\s-]/g, ''));
  expect(code).toMatch(/^\d{6}$/);
  return code!;
}

export async function registerWithPhone(sg: IdentitySupergraph, client: Client, overrides: Record<string, unknown> = {}): Promise<SignedIn & { phone: string }> {
  const phone = uniquePhone();
  const smsCode = await requestCode(sg, client, phone, 'REGISTER');
  const data = expectOk(await client.call(REGISTER, { input: { phone, smsCode, displayName: 'Phone User', ...overrides } }));
  return { ...data.register, phone };
}

/**
 * Ends the grace window of a rotated refresh token now (what its Redis key's expiry does after
 * REFRESH_REUSE_GRACE_SECONDS): from here on, presenting it again is a replay.
 */
export async function endGraceWindow(sg: Supergraph, refreshToken: string, tenantId = 'default'): Promise<void> {
  expect(await sg.redis.del(`refresh-grace:${tenantId}:${hashRefreshToken(refreshToken)}`)).toBe(1);
}

/** The payload of a JWT, unverified (to read `sid`). */
export function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}
