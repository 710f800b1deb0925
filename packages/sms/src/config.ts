import { z } from '@firefly/config';
import { createAliyunSmsProvider } from './aliyun-client.ts';
import { createConsoleSmsProvider } from './console-provider.ts';
import type { SmsProvider } from './provider.ts';

/** Environment variables of the SMS provider (merge into a process's config schema). */
export const smsShape = {
  /** `console` (development default: prints codes to stderr) or `aliyun`. Production requires `aliyun`. */
  SMS_PROVIDER: z.enum(['console', 'aliyun'], { error: 'expected console or aliyun' }).default('console'),
  ALIYUN_SMS_ACCESS_KEY_ID: z.string().optional(),
  ALIYUN_SMS_ACCESS_KEY_SECRET: z.string().optional(),
  /** Base URL of Dysmsapi; the local double in tests. */
  ALIYUN_SMS_ENDPOINT: z.string().url({ error: 'expected a URL such as https://dysmsapi.aliyuncs.com' }).default('https://dysmsapi.aliyuncs.com'),
  ALIYUN_SMS_SIGN_NAME: z.string().optional(),
  ALIYUN_SMS_TEMPLATE_CODE: z.string().optional(),
  /** Payment-success template (variables `credits`, `amount`); unset: no SMS when an order is paid. */
  ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE: z.string().optional(),
  ALIYUN_SMS_TIMEOUT_MS: z.coerce.number({ error: 'expected a whole number' }).int().positive().default(5_000),
};

export interface SmsConfig {
  NODE_ENV: string;
  SMS_PROVIDER: 'console' | 'aliyun';
  ALIYUN_SMS_ACCESS_KEY_ID?: string | undefined;
  ALIYUN_SMS_ACCESS_KEY_SECRET?: string | undefined;
  ALIYUN_SMS_ENDPOINT: string;
  ALIYUN_SMS_SIGN_NAME?: string | undefined;
  ALIYUN_SMS_TEMPLATE_CODE?: string | undefined;
  ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE?: string | undefined;
  ALIYUN_SMS_TIMEOUT_MS: number;
}

/** Problems that make a configuration unusable (or, in production, unsafe); empty when it is fine. */
export function smsConfigProblems(config: SmsConfig): string[] {
  const problems: string[] = [];
  if (config.SMS_PROVIDER === 'console' && config.NODE_ENV === 'production') {
    problems.push('SMS_PROVIDER: the console provider is refused in production; set SMS_PROVIDER=aliyun');
  }
  if (config.SMS_PROVIDER === 'aliyun') {
    for (const key of ['ALIYUN_SMS_ACCESS_KEY_ID', 'ALIYUN_SMS_ACCESS_KEY_SECRET', 'ALIYUN_SMS_SIGN_NAME', 'ALIYUN_SMS_TEMPLATE_CODE'] as const) {
      if (!config[key]) problems.push(`${key}: required when SMS_PROVIDER=aliyun`);
    }
  }
  return problems;
}

export function createSmsProvider(config: SmsConfig): SmsProvider {
  const problems = smsConfigProblems(config);
  if (problems.length > 0) throw new Error(problems.join('; '));
  switch (config.SMS_PROVIDER) {
    case 'console':
      return createConsoleSmsProvider({ nodeEnv: config.NODE_ENV });
    case 'aliyun':
      return createAliyunSmsProvider({
        accessKeyId: config.ALIYUN_SMS_ACCESS_KEY_ID!,
        accessKeySecret: config.ALIYUN_SMS_ACCESS_KEY_SECRET!,
        endpoint: config.ALIYUN_SMS_ENDPOINT,
        signName: config.ALIYUN_SMS_SIGN_NAME!,
        templateCode: config.ALIYUN_SMS_TEMPLATE_CODE!,
        orderPaidTemplateCode: config.ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE,
        timeoutMs: config.ALIYUN_SMS_TIMEOUT_MS,
      });
  }
}
