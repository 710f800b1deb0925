import type { PaymentChannel } from '@firefly/db';

/** What a PENDING order shows the buyer (Order.payment). */
export interface PaymentInstructionData {
  qrCodeUrl: string | null;
  payUrl: string | null;
}

/** A trade as the provider reports it (query, close), in our words. */
export interface ProviderTrade {
  /** WAITING: created, unpaid. PAID: money received (refunds may follow). CLOSED: closed unpaid. NOT_FOUND: unknown there. */
  state: 'WAITING' | 'PAID' | 'CLOSED' | 'NOT_FOUND';
  /** Alipay trade_no / WeChat transaction_id, once known. */
  providerTradeNo: string | null;
  /** What the provider says was paid, in fen. */
  amountFen: number | null;
  paidAt: Date | null;
}

export interface StartPayment {
  outTradeNo: string;
  amountFen: number;
  subject: string;
  expiresAt: Date;
}

/** Why a provider call failed: `retryable` for network trouble, timeouts and the provider's system errors. */
export class ProviderError extends Error {
  constructor(
    readonly channel: PaymentChannel,
    readonly code: string,
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
    this.name = 'ProviderError';
  }
}

/** A payment the provider confirmed (a verified notification, or a query that found the trade paid). */
export interface ConfirmedPayment {
  channel: PaymentChannel;
  outTradeNo: string;
  providerTradeNo: string;
  amountFen: number;
  paidAt: Date | null;
  /** What the provider said, without signatures or keys, kept with the Payment record. */
  payload: string;
}

/** A notification after the provider's own checks (signature, timestamp window, decryption, merchant/app ids). */
export type NotificationResult =
  | { kind: 'paid'; payment: ConfirmedPayment }
  /** A refund finished at the provider (WeChat Pay REFUND.* notifications). */
  | { kind: 'refund'; outRefundNo: string; succeeded: boolean }
  /** Authentic but nothing to act on (e.g. a WAIT_BUYER_PAY or TRADE_CLOSED status sync). */
  | { kind: 'ignored'; reason: string }
  /**
   * Forged, altered, stale or not ours: changes nothing. `reason` is for logs, metrics and the notification record,
   * never for the sender. `claimedReference`: the out_trade_no (or out_refund_no) the body names, NOT verified, so
   * that the record of a refused notification can be found on the order it names.
   */
  | { kind: 'refused'; reason: string; claimedReference?: string };

/** One payment channel's API as billing uses it; implemented over the providers' SDKs in src/providers/. */
export interface PaymentProvider {
  readonly channel: PaymentChannel;
  /** Creates the trade at the provider and returns how to pay it. */
  start(payment: StartPayment): Promise<PaymentInstructionData>;
  /** Closes an unpaid trade. `not-closable`: it was paid (or is otherwise past WAITING) — query it. */
  close(outTradeNo: string): Promise<'closed' | 'not-closable'>;
  query(outTradeNo: string): Promise<ProviderTrade>;
  /** Refunds part of a paid trade; idempotent on outRefundNo. PROCESSING: ask refundStatus later. */
  refund(refund: { outTradeNo: string; outRefundNo: string; amountFen: number; totalFen: number; reason: string }): Promise<RefundState>;
  refundStatus(refund: { outTradeNo: string; outRefundNo: string }): Promise<RefundState>;
  /** Verifies and reads a notification exactly as it arrived (raw body, headers lower-cased). */
  parseNotification(input: { headers: Record<string, string | undefined>; rawBody: string }): NotificationResult;
}

export type RefundState = 'SUCCEEDED' | 'PROCESSING' | 'FAILED';

export type PaymentProviders = Partial<Record<PaymentChannel, PaymentProvider>>;
