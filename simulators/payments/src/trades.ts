import { randomDigits, randomToken } from './crypto.ts';

export interface SimRefund {
  /** Alipay `out_request_no` / WeChat `out_refund_no`. */
  outRefundNo: string;
  refundId: string;
  amountFen: number;
  reason: string;
  status: 'PROCESSING' | 'SUCCESS';
  notifyUrl: string | null;
  createdAt: Date;
  succeededAt: Date | null;
}

export interface SimTrade {
  provider: 'alipay' | 'wechat';
  outTradeNo: string;
  /** Alipay assigns trade_no when the trade is created; WeChat assigns transaction_id when it is paid. */
  tradeNo: string | null;
  /** Token in the QR / cashier URLs. */
  token: string;
  appId: string;
  subject: string;
  amountFen: number;
  notifyUrl: string;
  returnUrl: string | null;
  attach: string | null;
  status: 'WAITING' | 'PAID' | 'CLOSED';
  /** An Alipay precreate QR nobody scanned yet is reported as not existing (ACQ.TRADE_NOT_EXIST). */
  scanned: boolean;
  expiresAt: Date;
  createdAt: Date;
  paidAt: Date | null;
  closedAt: Date | null;
  buyerId: string;
  refunds: Map<string, SimRefund>;
  /** WeChat: fingerprint of the native order's parameters (a re-post must be identical). */
  fingerprint: string;
}

/** Every trade of both providers, by out_trade_no (unique per provider) and by token. */
export class TradeBook {
  private readonly byNo = new Map<string, SimTrade>();
  private readonly byToken = new Map<string, SimTrade>();

  private key(provider: SimTrade['provider'], outTradeNo: string): string {
    return `${provider}:${outTradeNo}`;
  }

  get(provider: SimTrade['provider'], outTradeNo: string): SimTrade | undefined {
    const trade = this.byNo.get(this.key(provider, outTradeNo));
    if (trade) this.expire(trade);
    return trade;
  }

  /** Either provider (test hooks and the admin API name a trade by out_trade_no alone). */
  find(outTradeNo: string): SimTrade | undefined {
    return this.get('alipay', outTradeNo) ?? this.get('wechat', outTradeNo);
  }

  byTokenOf(token: string): SimTrade | undefined {
    const trade = this.byToken.get(token);
    if (trade) this.expire(trade);
    return trade;
  }

  findByTradeNo(provider: SimTrade['provider'], tradeNo: string): SimTrade | undefined {
    for (const trade of this.byNo.values()) if (trade.provider === provider && trade.tradeNo === tradeNo) return trade;
    return undefined;
  }

  create(input: Omit<SimTrade, 'token' | 'tradeNo' | 'status' | 'createdAt' | 'paidAt' | 'closedAt' | 'buyerId' | 'refunds' | 'scanned'> & { scanned: boolean }): SimTrade {
    const now = new Date();
    const trade: SimTrade = {
      ...input,
      token: randomToken(24),
      tradeNo: input.provider === 'alipay' ? alipayTradeNo(now) : null,
      status: 'WAITING',
      createdAt: now,
      paidAt: null,
      closedAt: null,
      buyerId: input.provider === 'alipay' ? `2088${randomDigits(12)}` : `oUpF8uMuAJO_M2pxb1Q9zNjWeS6o${randomToken(4)}`,
      refunds: new Map(),
    };
    this.byNo.set(this.key(trade.provider, trade.outTradeNo), trade);
    this.byToken.set(trade.token, trade);
    return trade;
  }

  /** out_trade_no of every trade of one provider. */
  outTradeNos(provider: SimTrade['provider']): string[] {
    return [...this.byNo.values()].filter((trade) => trade.provider === provider).map((trade) => trade.outTradeNo);
  }

  refundedFen(trade: SimTrade): number {
    let sum = 0;
    for (const refund of trade.refunds.values()) sum += refund.amountFen;
    return sum;
  }

  /** An unpaid trade past its expiry closes by itself, as at both providers. */
  private expire(trade: SimTrade): void {
    if (trade.status === 'WAITING' && trade.expiresAt.getTime() <= Date.now()) {
      trade.status = 'CLOSED';
      trade.closedAt = trade.expiresAt;
    }
  }

  clear(): void {
    this.byNo.clear();
    this.byToken.clear();
  }
}

function alipayTradeNo(at: Date): string {
  const day = at.toISOString().slice(0, 10).replace(/-/g, '');
  return `${day}22001${randomDigits(15)}`;
}
