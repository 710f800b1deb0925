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

/** `yyyy-MM-dd HH:mm:ss` in Beijing time (UTC+8), as Alipay writes its times. */
export function beijingTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** RFC 3339 with +08:00, as WeChat Pay writes its times. */
export function beijingRfc3339(at: Date): string {
  return `${new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19)}+08:00`;
}
