/** Fen (integer) to Alipay's yuan string with two decimals: 990 -> "9.90". */
export function fenToYuan(fen: number): string {
  return `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')}`;
}

/** Alipay's yuan string to fen; null when it is not a plain amount with at most two decimals. */
export function yuanToFen(yuan: unknown): number | null {
  if (typeof yuan !== 'string' || !/^\d{1,9}(\.\d{1,2})?$/.test(yuan)) return null;
  const [whole, fraction = ''] = yuan.split('.');
  return Number(whole) * 100 + Number(fraction.padEnd(2, '0'));
}

/** Alipay's `yyyy-MM-dd HH:mm:ss` (Beijing time) to an instant; null when malformed. */
export function parseBeijingTime(text: string): Date | null {
  const parsed = Date.parse(`${text.replace(' ', 'T')}+08:00`);
  return Number.isNaN(parsed) ? null : new Date(parsed);
}

/** RFC 3339 in Beijing time, as WeChat Pay wants `time_expire`. */
export function beijingRfc3339(at: Date): string {
  return `${new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}
