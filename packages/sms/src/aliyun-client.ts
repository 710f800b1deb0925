import { randomBytes } from 'node:crypto';
import { acs3Authorization, sha256Hex } from './acs3.ts';
import { fenToYuan, SmsError, type SmsProvider, type SmsReceipt } from './provider.ts';

/** Options of {@link createAliyunSmsClient}. */
export interface AliyunSmsClientOptions {
  accessKeyId: string;
  accessKeySecret: string;
  /** Base URL of the API. Default `https://dysmsapi.aliyuncs.com`; the local double is `http://127.0.0.1:<port>`. */
  endpoint?: string;
  /** Milliseconds before a request is abandoned (as `unavailable`). Default 5000. */
  timeoutMs?: number;
}

export interface SendSmsInput {
  /** Mainland number(s), comma-separated. */
  phoneNumbers: string;
  signName: string;
  templateCode: string;
  /** Every template variable, e.g. `{ code: '123456' }`; sent as a JSON string. */
  templateParam: Record<string, string>;
}

export interface SendSmsResult {
  bizId: string;
  requestId: string;
}

const API_VERSION = '2017-05-25';
const DEFAULT_ENDPOINT = 'https://dysmsapi.aliyuncs.com';

/**
 * A Dysmsapi client speaking the wire protocol of the current official SDK: `POST /?<params>` with an empty body
 * and an ACS3-HMAC-SHA256 signature (acs3.ts). Plain `fetch`, no SDK: the SDK adds
 * ~40 transitive packages for one signed request. SendSms is not idempotent, so nothing here retries.
 */
export function createAliyunSmsClient(options: AliyunSmsClientOptions) {
  const endpoint = new URL(options.endpoint ?? DEFAULT_ENDPOINT);
  const timeoutMs = options.timeoutMs ?? 5_000;

  return {
    async sendSms(input: SendSmsInput): Promise<SendSmsResult> {
      const query: Record<string, string> = {
        PhoneNumbers: input.phoneNumbers,
        SignName: input.signName,
        TemplateCode: input.templateCode,
        TemplateParam: JSON.stringify(input.templateParam),
      };
      const payloadHash = sha256Hex('');
      const headers: Record<string, string> = {
        host: endpoint.host,
        'x-acs-action': 'SendSms',
        'x-acs-version': API_VERSION,
        // UTC without milliseconds, as the SDK writes it: 2024-01-01T02:00:00Z.
        'x-acs-date': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
        'x-acs-signature-nonce': randomBytes(16).toString('hex'),
        'x-acs-content-sha256': payloadHash,
      };
      const authorization = acs3Authorization(options.accessKeyId, options.accessKeySecret, { method: 'POST', path: '/', query, headers, payloadHash });
      const url = new URL('/', endpoint);
      for (const [name, value] of Object.entries(query)) url.searchParams.set(name, value);

      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { ...headers, accept: 'application/json', 'user-agent': 'firefly-sms/1', authorization },
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (error) {
        const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
        throw new SmsError('unavailable', timedOut ? 'TIMEOUT' : 'NETWORK', timedOut ? `SMS API did not answer within ${timeoutMs} ms` : 'SMS API unreachable');
      }
      const body = (await response.json().catch(() => null)) as Record<string, unknown> | null;
      const code = typeof body?.Code === 'string' ? body.Code : `HTTP_${response.status}`;
      const message = typeof body?.Message === 'string' ? body.Message : response.statusText;
      if (response.ok && code === 'OK') {
        return { bizId: String(body?.BizId ?? ''), requestId: String(body?.RequestId ?? '') };
      }
      throw new SmsError(classify(response.status, code), code, `Aliyun SMS refused the message: ${code} ${message}`);
    },
  };
}

/** Business failures arrive with HTTP 200 and `Code != "OK"` (Dysmsapi's documented behaviour); gateway errors with 4xx/5xx. */
function classify(status: number, code: string): SmsError['kind'] {
  if (code === 'isv.BUSINESS_LIMIT_CONTROL' || code.includes('Throttling') || code === 'isv.DAY_LIMIT_CONTROL' || code === 'isv.MONTH_LIMIT_CONTROL') return 'throttled';
  if (code === 'isv.MOBILE_NUMBER_ILLEGAL' || code === 'isv.MOBILE_COUNT_OVER_LIMIT') return 'invalid-number';
  if (status >= 500 || code === 'isp.SYSTEM_ERROR') return 'unavailable';
  return 'rejected';
}

export interface AliyunSmsProviderOptions extends AliyunSmsClientOptions {
  /** Approved signature (签名), e.g. `萤火AI`. */
  signName: string;
  /** Approved verification-code template whose single variable is `${code}`. */
  templateCode: string;
  /** Approved payment-success template with the variables `${credits}` and `${amount}` (yuan); none: not sent. */
  orderPaidTemplateCode?: string | undefined;
}

export function createAliyunSmsProvider(options: AliyunSmsProviderOptions): SmsProvider {
  const client = createAliyunSmsClient(options);
  return {
    name: 'aliyun',
    async sendVerificationCode({ phone, code }): Promise<SmsReceipt> {
      const result = await client.sendSms({ phoneNumbers: phone, signName: options.signName, templateCode: options.templateCode, templateParam: { code } });
      return { messageId: result.bizId };
    },
    sendsOrderPaid: Boolean(options.orderPaidTemplateCode),
    async sendOrderPaid({ phone, credits, amountFen }): Promise<SmsReceipt> {
      if (!options.orderPaidTemplateCode) throw new SmsError('rejected', 'TEMPLATE_NOT_CONFIGURED', 'no payment-success template is configured (ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE)');
      const result = await client.sendSms({
        phoneNumbers: phone,
        signName: options.signName,
        templateCode: options.orderPaidTemplateCode,
        templateParam: { credits: String(credits), amount: fenToYuan(amountFen) },
      });
      return { messageId: result.bizId };
    },
  };
}
