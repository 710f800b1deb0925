import type { NotificationAttempt, NotificationRecord } from './types.ts';

export interface OutgoingNotification {
  provider: 'alipay' | 'wechat';
  kind: string;
  outTradeNo: string;
  url: string;
  /** Builds the request afresh for each attempt (WeChat signs each attempt with a fresh timestamp). */
  build: () => { headers: Record<string, string>; body: string };
  /** Whether the merchant's answer acknowledges the notification, in the provider's terms. */
  acknowledged: (status: number, body: string) => boolean;
}

/**
 * Delivers notifications the way both providers do: POST to the merchant's notify URL, and re-send on the schedule
 * until the answer acknowledges it (Alipay: a body of exactly `success`; WeChat Pay: 200 or 204). Kept per trade, so
 * `renotify` can send the last one again.
 */
export class Notifier {
  private readonly records: Array<NotificationRecord & { message: OutgoingNotification }> = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  constructor(private readonly retryMs: readonly number[]) {}

  /** Starts delivering; attempts continue in the background. Returns the record (updated as attempts happen). */
  send(message: OutgoingNotification, id: string): NotificationRecord {
    const record = { id, provider: message.provider, kind: message.kind, outTradeNo: message.outTradeNo, url: message.url, acknowledged: false, attempts: [], message };
    this.records.push(record);
    void this.attempt(record, 0);
    return record;
  }

  /** One delivery now, outside the retry chain (duplicates, forged probes). */
  async once(message: OutgoingNotification): Promise<{ status: number; body: string }> {
    const attempt = await deliver(message);
    return { status: attempt.status, body: attempt.body };
  }

  last(outTradeNo: string): OutgoingNotification | undefined {
    for (let i = this.records.length - 1; i >= 0; i--) if (this.records[i]!.outTradeNo === outTradeNo) return this.records[i]!.message;
    return undefined;
  }

  list(): NotificationRecord[] {
    return this.records.map(({ message: _message, ...record }) => ({ ...record, attempts: [...record.attempts] }));
  }

  private async attempt(record: NotificationRecord & { message: OutgoingNotification }, index: number): Promise<void> {
    if (this.closed) return;
    const attempt = await deliver(record.message);
    if (this.closed) return;
    record.attempts.push(attempt);
    if (attempt.acknowledged) {
      record.acknowledged = true;
      return;
    }
    const pause = this.retryMs[index];
    if (pause === undefined) return;
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void this.attempt(record, index + 1);
    }, pause);
    timer.unref();
    this.timers.add(timer);
  }

  reset(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.records.splice(0);
  }

  close(): void {
    this.closed = true;
    this.reset();
  }
}

async function deliver(message: OutgoingNotification): Promise<NotificationAttempt> {
  const at = new Date().toISOString();
  const { headers, body } = message.build();
  try {
    const response = await fetch(message.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(5_000) });
    const text = await response.text();
    return { at, status: response.status, body: text.slice(0, 200), acknowledged: message.acknowledged(response.status, text) };
  } catch (error) {
    return { at, status: 0, body: (error as Error).message.slice(0, 200), acknowledged: false };
  }
}
