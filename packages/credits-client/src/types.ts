/** The billing subgraph's internal credit API as the conversation and image subgraphs see it. */

export type ReservationStatus = 'HELD' | 'SETTLED' | 'RELEASED' | 'EXPIRED';

/** Ledger reasons a settlement may book. */
export type UsageReason = 'CHAT_USAGE' | 'IMAGE_USAGE';

export interface Reservation {
  id: string;
  userId: string;
  amount: number;
  /** The charged amount once SETTLED. */
  settledAmount: number | null;
  status: ReservationStatus;
  referenceId: string;
  /** ISO-8601. */
  expiresAt: string;
  createdAt: string;
}

export interface SettledReservation extends Reservation {
  /**
   * Cost that could not be collected: `actualAmount − settledAmount` when the actual cost exceeded hold + available
   * (billing charges what there is and writes the rest off). 0 otherwise. On a replayed settle it is computed from
   * this call's `actualAmount`.
   */
  shortfall: number;
}

export interface CreditBalance {
  available: number;
  reserved: number;
}

/** Who the call is for: the tenant goes into the signed service credential; billing scopes everything to it. */
export interface TenantScope {
  tenantId: string;
  /** Propagated as the credential's request id, for log correlation. Default: a fresh UUID. */
  requestId?: string;
}

/**
 * The partner whose API key made the request a hold is for (the caller's own `identity.partner`, as the gateway's
 * credential carried it). Sent to billing inside the signed service credential — never as an argument — and recorded
 * on the hold and on its settlement's ledger entry.
 */
export interface PartnerScope {
  partner?: { partnerId: string; apiKeyId: string } | undefined;
}

export interface ReserveInput extends TenantScope, PartnerScope {
  userId: string;
  /** Upper bound of the cost, in credits (≥ 1). */
  amount: number;
  /** What the credits are for: the assistant message id, the image job id. */
  referenceId: string;
  /** Billing's sweeper releases the hold after this long if it was neither settled nor released. */
  ttlSeconds: number;
  /** The same key returns the same reservation: derive it from the business event (e.g. `message:<id>`). */
  idempotencyKey: string;
}

export interface ReserveChatInput extends Omit<ReserveInput, 'amount'> {
  modelId: string;
  /** The prompt's input tokens (an upper-bound estimate). */
  inputTokens: number;
  /** The answer's output cap. */
  outputTokens: number;
}

export interface ReserveImageInput extends Omit<ReserveInput, 'amount'> {
  modelId: string;
  /** Image size as DashScope writes it, e.g. "1024*1024". */
  size: string;
  /** Number of images. */
  count: number;
}

export interface SettleInput extends TenantScope {
  reservationId: string;
  /** The real cost (≥ 0). */
  actualAmount: number;
  reason: UsageReason;
  /** Defaults to the reservation's referenceId. */
  referenceId?: string;
}

export interface ReleaseInput extends TenantScope {
  reservationId: string;
}

export interface GrantSignupCreditsInput extends TenantScope {
  userId: string;
}

export interface QuoteChatInput extends TenantScope {
  modelId: string;
  inputTokens: number;
  outputTokens: number;
  /** For a settlement: price as of this reservation's creation (prices are versioned). Omit for today's price. */
  reservationId?: string;
}

export interface QuoteImageInput extends TenantScope {
  modelId: string;
  size: string;
  count: number;
  /** For a settlement: price as of this reservation's creation. Omit for today's price. */
  reservationId?: string;
}

export interface SetChatPriceInput extends TenantScope {
  modelId: string;
  inputPer1kTokens: number;
  outputPer1kTokens: number;
}

export interface SetImagePriceInput extends TenantScope {
  modelId: string;
  perImage: number;
}

export interface CallOptions {
  /** Aborts the call (all attempts). */
  signal?: AbortSignal;
}

export interface CreditsClient {
  /** Holds credits; AppError INSUFFICIENT_CREDITS when the user has too few. Idempotent by `idempotencyKey`. */
  reserve(input: ReserveInput, options?: CallOptions): Promise<Reservation>;
  /**
   * Prices one chat answer's worst case (as quoteChat, at least 1 credit) and holds it, in one call. NOT_FOUND for an
   * unpriced model, INSUFFICIENT_CREDITS when the user has too few. Idempotent by `idempotencyKey`.
   */
  reserveChat(input: ReserveChatInput, options?: CallOptions): Promise<Reservation>;
  /**
   * Prices `count` images (as quoteImage) and holds that, in one call; the hold's `amount` is count × the price per
   * image. NOT_FOUND for an unpriced model, INSUFFICIENT_CREDITS when the user has too few. Idempotent by `idempotencyKey`.
   */
  reserveImage(input: ReserveImageInput, options?: CallOptions): Promise<Reservation>;
  /** Charges the real cost and returns the rest of the hold. Idempotent by reservation id; CONFLICT once released. */
  settle(input: SettleInput, options?: CallOptions): Promise<SettledReservation>;
  /** Returns the whole hold. Idempotent; a no-op on a settled reservation. */
  release(input: ReleaseInput, options?: CallOptions): Promise<Reservation>;
  /** Creates the account and books the sign-up grant once per user. */
  grantSignupCredits(input: GrantSignupCreditsInput, options?: CallOptions): Promise<CreditBalance>;
  /** Credits of one chat message with this usage (rounded up per message). NOT_FOUND for an unpriced model. */
  quoteChat(input: QuoteChatInput, options?: CallOptions): Promise<number>;
  /** Credits of `count` images of one size. NOT_FOUND for an unpriced model. */
  quoteImage(input: QuoteImageInput, options?: CallOptions): Promise<number>;
  /** Sets a chat model's price from now on (upsertChatModel); BAD_USER_INPUT names a bad field. */
  setChatPrice(input: SetChatPriceInput, options?: CallOptions): Promise<boolean>;
  /** Sets an image model's price per image from now on (upsertImageModel). */
  setImagePrice(input: SetImagePriceInput, options?: CallOptions): Promise<boolean>;
}
