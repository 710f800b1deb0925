import type { MessageStatus } from '@firefly/db';
import type { MessageRow } from '../domain/ports.ts';

/**
 * What the generation lifecycle needs from storage. Redis holds the live state (leases, token streams, stop
 * signals; implemented in this folder), MySQL the messages (implemented in data/messages.ts). The lifecycle code
 * (start, run, finish, stop, sweep, watch) only sees these interfaces.
 */

/** A running generation: who pays for it and what the sweeper needs to finish its message alone. */
export interface GenerationRecord {
  messageId: string;
  tenantId: string;
  userId: string;
  conversationId: string;
  modelId: string;
  reservationId: string;
}

export type GenerationKey = Pick<GenerationRecord, 'messageId' | 'tenantId' | 'userId'>;
export type HeartbeatResult = 'ok' | 'stop-requested' | 'lost';
export type TakeoverResult = 'taken' | 'alive' | 'gone';

/** Who runs which generation: leases that detect a dead process, the per-user limit, the stop flag. */
export interface GenerationRegistry {
  /** Takes one of the user's `max` generation slots; false when all are in use. */
  acquireSlot(tenantId: string, userId: string, messageId: string, max: number): Promise<boolean>;
  releaseSlot(tenantId: string, userId: string, messageId: string): Promise<void>;
  /** Records a generation owned by `owner` with a fresh lease (right after the hold, alongside the message rows). */
  register(record: GenerationRecord, owner: string): Promise<void>;
  /** Renews the lease while `owner` still holds it; reports a stop request left in the record. */
  heartbeat(record: GenerationKey, owner: string): Promise<HeartbeatResult>;
  /** Ids whose lease expired by the index (the record decides; see takeover). */
  expiredCandidates(limit: number): Promise<string[]>;
  /** Takes over an expired generation for `owner` with a fresh lease, atomically: of several sweepers one wins. */
  takeover(messageId: string, owner: string): Promise<TakeoverResult>;
  read(messageId: string): Promise<(GenerationRecord & { owner: string; exp: number; stop: boolean }) | null>;
  /**
   * Re-creates a lost record, owned by nobody, its lease expiring in one lease time (then the orphan sweep finishes
   * it); false when a record exists or the stream already ends with `done` (the generation finished meanwhile).
   */
  restore(record: GenerationRecord): Promise<boolean>;
  /** Leaves a stop request in the record (read by the owner's next heartbeat); false when no generation runs. */
  requestStop(messageId: string): Promise<boolean>;
  /** Forgets a finished generation: record, index entry and the user's slot. */
  remove(record: GenerationKey): Promise<void>;
  /** Drops an index entry whose record is gone. */
  dropIndexEntry(messageId: string): Promise<void>;
}

/** One event of a message's token stream, numbered from 1 without gaps. */
export type StreamEntry =
  | { seq: number; kind: 'delta'; delta: string; inputTokens: number | null; outputTokens: number | null }
  | { seq: number; kind: 'done'; status: string };

/** A message's token stream: written by whoever generates it, replayed to every subscriber. */
export interface MessageStreamStore {
  /**
   * Rejects with StreamConflictError when `seq` was already written (someone else took the generation over), and,
   * past seq 1, with StreamLostError when the stream no longer exists (Redis lost it): nothing is written, the writer
   * `restore`s it.
   */
  appendDelta(messageId: string, seq: number, delta: string, usage: { inputTokens: number; outputTokens: number } | null): Promise<void>;
  /** The last event; the stream then expires after the retention time. Same conflict rule. */
  appendDone(messageId: string, seq: number, status: string): Promise<void>;
  /**
   * Writes a lost stream again from its writer's deltas (seq 1…n, the usage on the last); StreamConflictError when
   * someone else wrote it meanwhile.
   */
  restore(messageId: string, deltas: readonly string[], usage: { inputTokens: number; outputTokens: number } | null): Promise<void>;
  readAll(messageId: string): Promise<StreamEntry[]>;
  exists(messageId: string): Promise<boolean>;
}

/** Receives a message's stream entries with seq above its cursor, in order, without gaps. */
export type StreamListener = (entries: StreamEntry[]) => void;

/** Live delivery of token streams to this process's subscribers. */
export interface StreamHub {
  /** Follows a message's stream from `afterSeq` (exclusive); returns the unsubscribe function, which acts at once. */
  subscribe(messageId: string, afterSeq: number, listener: StreamListener): () => void;
  /** Watchers currently registered (one per open subscription). */
  watcherCount(): number;
  close(): Promise<void>;
}

/** Short-lived exclusive claims in Redis: one request per idempotency key at a time. */
export interface RequestClaims {
  /** A token when claimed (release it with it), null when someone else holds the claim. */
  claim(key: string, ttlMs: number): Promise<string | null>;
  /** Releases the claim if `token` still holds it. */
  release(key: string, token: string): Promise<void>;
  /** Sets the claim's expiry to `ttlMs` from now if `token` still holds it; false when it does not. */
  renew(key: string, token: string, ttlMs: number): Promise<boolean>;
}

/** TurnStore.store found the idempotency key taken: another request with the same key stored its turn first. */
export class DuplicateRequestError extends Error {
  override readonly name = 'DuplicateRequestError';
}

/** stopGeneration across replicas: every replica hears a stop and aborts the generation if it runs it. */
export interface StopSignals {
  publish(messageId: string): Promise<void>;
  close(): Promise<void>;
}

/** A question and its STREAMING answer, stored together when a generation starts. */
export interface NewTurn {
  tenantId: string;
  userId: string;
  conversationId: string;
  /** Absent when regenerating (the question exists). */
  question?: { id: string; content: string; createdAt: Date };
  answer: { id: string; replyToId: string; reservationId: string; createdAt: Date; idempotencyKey?: string };
  /** Set the conversation's title when it has none yet. */
  derivedTitle?: string;
}

/** What a finished generation writes onto its message. */
export interface FinalState {
  status: Exclude<MessageStatus, 'STREAMING'>;
  content: string;
  inputTokens: number | null;
  outputTokens: number | null;
  finishReason: string | null;
  error: string | null;
  /** Message.errorCode: set with `error`. */
  errorCode: string | null;
  creditsCharged: number | null;
}

/** The generation lifecycle's MySQL side. Works across tenants: every call names its tenant. */
export interface TurnStore {
  /**
   * Stores a turn's messages (the question unless regenerating, the STREAMING answer) in one statement. Rejects with
   * {@link DuplicateRequestError} when the answer's idempotency key is already taken (nothing stored then).
   */
  insert(turn: NewTurn): Promise<{ question: MessageRow | null; answer: MessageRow }>;
  /** The conversation's side of a turn that goes ahead: `lastMessageAt`, and the derived title while it has none. */
  touchConversation(turn: NewTurn): Promise<void>;
  /** Removes a turn's messages again (its hold failed): as if it had never been stored. */
  discard(turn: { tenantId: string; messageIds: string[] }): Promise<void>;
  /** The answer's hold, when billing named it otherwise than the caller expected. */
  setReservation(key: { tenantId: string; messageId: string }, reservationId: string): Promise<void>;
  /** The assistant message a user's request with this (operation-prefixed) idempotency key created, if any. */
  findByIdempotencyKey(key: { tenantId: string; userId: string; idempotencyKey: string }): Promise<MessageRow | null>;
  /** Writes a generation's end only if the message is still STREAMING; true when this call finished it. */
  finish(key: { tenantId: string; messageId: string }, state: FinalState): Promise<boolean>;
  /**
   * STREAMING answers created before `createdBefore`, across tenants, as generation records (the model is the
   * conversation's): what the MySQL-side sweep checks against Redis.
   */
  listStreaming(createdBefore: Date, limit: number): Promise<GenerationRecord[]>;
  /** A message by id within a tenant, whatever its conversation's state (the sweeper's view). */
  find(key: { tenantId: string; messageId: string }): Promise<MessageRow | null>;
}

/** A settlement billing did not accept when the answer ended: what to charge (or release) once it answers. */
export interface PendingSettlement {
  reservationId: string;
  tenantId: string;
  messageId: string;
  modelId: string;
  /** null: release the whole hold. */
  usage: { inputTokens: number; outputTokens: number } | null;
  attempts: number;
}

/** The settlement outbox (MySQL): parked settlements, retried until billing answers. */
export interface SettlementOutbox {
  /** Parks a settlement (again: parking twice keeps one row), first retry at `nextAttemptAt`. */
  park(settlement: Omit<PendingSettlement, 'attempts'>, error: string, nextAttemptAt: Date): Promise<void>;
  /** Settlements whose next attempt is due, oldest first. */
  due(now: Date, limit: number): Promise<PendingSettlement[]>;
  /** Billing still did not answer: try again at `nextAttemptAt`. */
  reschedule(reservationId: string, attempts: number, nextAttemptAt: Date, error: string): Promise<void>;
  /** Billing answered: the row goes, and the message records what was charged (if it has no amount yet). */
  complete(settlement: PendingSettlement, creditsCharged: number | null): Promise<void>;
  /** Rows still waiting (metrics, tests). */
  count(): Promise<number>;
}
