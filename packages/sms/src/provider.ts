/**
 * Sends SMS: verification codes, and the payment-success notice of a paid order. One interface, three
 * implementations: the Aliyun SMS client (production), the console provider (development only) and, for tests, the
 * Aliyun client pointed at the local double.
 */
export interface SmsProvider {
  /** `aliyun` or `console`; shown in logs and readiness output. */
  readonly name: string;
  /** Sends `code` to a mainland number (11 digits, no prefix). Throws an {@link SmsError} on failure. */
  sendVerificationCode(input: { phone: string; code: string }): Promise<SmsReceipt>;
  /**
   * Whether the payment-success notice can be sent (Aliyun: an approved template is configured,
   * ALIYUN_SMS_ORDER_PAID_TEMPLATE_CODE; the console provider always can).
   */
  readonly sendsOrderPaid: boolean;
  /**
   * Tells the buyer their order is paid: the template's variables are `credits` (credits added) and `amount` (yuan,
   * two decimals, e.g. `30.00`). Throws an {@link SmsError} on failure (`rejected` when no template is configured).
   */
  sendOrderPaid(input: { phone: string; credits: number; amountFen: number }): Promise<SmsReceipt>;
}

/** Fen as the yuan string an SMS shows: 3000 → `30.00`. */
export function fenToYuan(fen: number): string {
  return `${Math.trunc(fen / 100)}.${String(Math.abs(fen) % 100).padStart(2, '0')}`;
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
