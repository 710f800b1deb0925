import type { AuditEntry, LedgerReason, ReservationStatus } from '@firefly/db';
import type { ChatPrice } from './pricing.ts';

/**
 * What the credit use cases need from storage. `data/credit-store.ts` implements it over Prisma; the use cases in
 * this folder hold the rules (validation, idempotency keys, how a settlement is priced) and never see SQL.
 */
export interface AccountRef {
  id: string;
  tenantId: string;
  userId: string;
}

export interface Balance {
  /** Spendable now. */
  available: number;
  /** Held by HELD reservations. */
  reserved: number;
}

export type AccountRow = AccountRef & Balance;

export interface LedgerEntryRow {
  id: string;
  tenantId: string;
  accountId: string;
  userId: string;
  delta: number;
  /** available + reserved right after this entry (the running sum of deltas). */
  balanceAfter: number;
  reason: LedgerReason;
  referenceId: string | null;
  idempotencyKey: string;
  note: string | null;
  /** The partner whose key made the request that spent these credits; null otherwise. */
  partnerId: string | null;
  createdAt: Date;
}

export interface ReservationRow {
  id: string;
  tenantId: string;
  accountId: string;
  userId: string;
  amount: number;
  settledAmount: number | null;
  status: ReservationStatus;
  referenceId: string;
  /** The partner whose key made the request the hold is for; its settlement's ledger entry carries it. */
  partnerId: string | null;
  /**
   * A chat hold's price (reserveChatCredits): the model and the credits per 1,000 tokens the hold was priced at, which
   * its settlement is priced at too. Null for other holds and for chat holds made before the price was stored.
   */
  chatModelId: string | null;
  chatInputPer1kTokens: number | null;
  chatOutputPer1kTokens: number | null;
  expiresAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface NewLedgerEntry {
  delta: number;
  reason: LedgerReason;
  referenceId: string | null;
  /** Unique per account: the same business event can never be booked twice. */
  idempotencyKey: string;
  note: string | null;
}

export type BookOutcome =
  | { kind: 'booked'; entry: LedgerEntryRow; balance: Balance }
  /** An entry with the same idempotency key exists: nothing was booked. */
  | { kind: 'duplicate' }
  /** A negative delta larger than available: nothing was booked. */
  | { kind: 'insufficient'; available: number };

export interface NewReservation {
  id: string;
  amount: number;
  referenceId: string;
  partnerId: string | null;
  expiresAt: Date;
  /** The price a chat hold was priced at (see ReservationRow); absent for other holds. */
  chatPrice?: HeldChatPrice | undefined;
}

/** The chat price a hold was priced at, stored on it. */
export interface HeldChatPrice extends ChatPrice {
  modelId: string;
}

/** Whose credits a hold takes: the account is found by its owner, in the hold's own statements. */
export interface AccountOwner {
  tenantId: string;
  userId: string;
}

export type HoldOutcome =
  | { kind: 'held'; reservation: ReservationRow }
  /** A reservation with this id exists: nothing was held. */
  | { kind: 'duplicate' }
  /**
   * The owner has no account, or fewer than `amount` credits available: nothing was held. (A reservation with this id
   * may exist all the same: the check of the balance comes before the insert.)
   */
  | { kind: 'refused' };

/** The reservation a close is for: its id, and the tenant it must belong to (null: any tenant, the sweeper). */
export interface ReservationRef {
  id: string;
  tenantId: string | null;
}

/** How a HELD reservation is closed, decided under the account lock from the account's current `available`. */
export interface CloseDecision {
  /** Credits taken for good, 0 ≤ charged ≤ hold + available. */
  charged: number;
  /** The ledger entry booking `-charged`; null when nothing is charged. */
  entry: Omit<NewLedgerEntry, 'delta'> | null;
}

export interface CloseRequest {
  status: 'SETTLED' | 'RELEASED';
  /** Only close when the reservation expired at or before this instant (the sweeper). */
  expiredBy?: Date;
  /** From the HELD reservation as it is under the lock; `available` excludes its hold. May run more than once (a retried transaction). */
  decide: (reservation: ReservationRow, available: number) => CloseDecision;
}

export type CloseOutcome =
  | { kind: 'closed'; reservation: ReservationRow; charged: number }
  /** Not HELD any more (or not expired yet, for the sweeper): nothing changed. */
  | { kind: 'unchanged'; reservation: ReservationRow }
  /** No such reservation (in that tenant). */
  | { kind: 'missing' };

export interface CreditStore {
  findAccount(tenantId: string, userId: string): Promise<AccountRow | null>;
  /** The user's account, created empty when missing (idempotent, safe under concurrency). */
  ensureAccount(tenantId: string, userId: string): Promise<AccountRef>;
  findEntry(accountId: string, idempotencyKey: string): Promise<LedgerEntryRow | null>;
  /** With `audit`, the audit event is written in the booking's transaction, its details completed with the entry id and balance. */
  book(account: AccountRef, entry: NewLedgerEntry, audit?: AuditEntry): Promise<BookOutcome>;
  /** `tenantId` null: any tenant (the sweeper). */
  findReservation(id: string, tenantId: string | null): Promise<ReservationRow | null>;
  /** Holds `reservation.amount` of the owner's available credits and stores the reservation, or neither. */
  hold(owner: AccountOwner, reservation: NewReservation): Promise<HoldOutcome>;
  /** Settles or releases a HELD reservation exactly once, under its account's lock. */
  close(reservation: ReservationRef, request: CloseRequest): Promise<CloseOutcome>;
  /** HELD reservations of every tenant whose expiry is at or before `now`, oldest expiry first. */
  listExpired(now: Date, limit: number): Promise<ReservationRow[]>;
}

/** Where prices come from (ChatPrice / ImagePrice, global catalog rows, and the tenants' own prices). */
export interface PriceSource {
  /** The price the tenant pays in force at `at` (default: now): its own override if it has one then, else the platform's. */
  findChatPrice(tenantId: string, modelId: string, at?: Date): Promise<ChatPrice | null>;
  /**
   * Credits per image the tenant pays at `at`: its own override if it has one then, else the size's own row, else the
   * model's "*" row; null when none exists.
   */
  findImagePrice(tenantId: string, modelId: string, size: string, at?: Date): Promise<number | null>;
  /** Sets the current price; it is in force from `now` on (earlier reservations keep the earlier price). */
  setChatPrice(modelId: string, price: ChatPrice, now: Date): Promise<void>;
  /** Sets the model's price per image for every size (`*`), in force from `now` on. */
  setImagePrice(modelId: string, perImage: number, now: Date): Promise<void>;
}
