/**
 * Sends SMS verification codes. One interface, three implementations: the Aliyun SMS client (production), the
 * console provider (development only) and, for tests, the Aliyun client pointed at the local double.
 */
export interface SmsProvider {
  /** `aliyun` or `console`; shown in logs and readiness output. */
  readonly name: string;
  /** Sends `code` to a mainland number (11 digits, no prefix). Throws an {@link SmsError} on failure. */
  sendVerificationCode(input: { phone: string; code: string }): Promise<SmsReceipt>;
}

export interface SmsReceipt {
  /** Provider's id of the message (Aliyun `BizId`), for delivery receipts. */
  messageId: string;
}

/**
 * Why a message was not accepted. `throttled` and `unavailable` are worth retrying later; `invalid-number` is the
 * caller's input; `rejected` is our configuration (signature, template, credentials, account) and needs an operator.
 */
export type SmsErrorKind = 'throttled' | 'invalid-number' | 'rejected' | 'unavailable';

export class SmsError extends Error {
  constructor(
    readonly kind: SmsErrorKind,
    /** The provider's code, e.g. `isv.BUSINESS_LIMIT_CONTROL`, `SignatureDoesNotMatch`, `HTTP_500`, `TIMEOUT`. */
    readonly providerCode: string,
    message: string,
  ) {
    super(message);
    this.name = 'SmsError';
  }
}

export function isSmsError(error: unknown): error is SmsError {
  return error instanceof SmsError;
}
