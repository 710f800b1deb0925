export interface PaymentSimulatorOptions {
  /** Port to listen on; `0` picks a free one. Default `0`. */
  port?: number;
  /** Default `127.0.0.1`; use `0.0.0.0` inside a container. */
  host?: string;
  /** Origin written into cashier and QR URLs when clients reach the simulator through another name. Default: its own url. */
  publicUrl?: string;
  alipay: {
    /** The merchant application's id; requests naming another get `isv.invalid-app-id`. */
    appId: string;
    /** The application's public key (PEM or bare base64): every request's RSA2 signature is checked with it. */
    appPublicKey: string;
    /** "Alipay's" private key (PKCS#8 PEM) signing answers and notifications. Default: generated at start. */
    privateKey?: string;
    /** The seller (merchant) account written into notifications. Default `2088000000000001`. */
    sellerId?: string;
  };
  wechat: {
    mchid: string;
    appid: string;
    /** Serial number of the merchant API certificate named in `Authorization`. */
    merchantSerial: string;
    /** The merchant's public key (PEM): every request's signature is checked with it. */
    merchantPublicKey: string;
    /** The 32-character APIv3 key that encrypts notification resources. */
    apiV3Key: string;
    /** "WeChat Pay's" private key (PKCS#8 PEM) signing answers and notifications. Default: generated at start. */
    platformPrivateKey?: string;
    /** Public-key id sent as `Wechatpay-Serial`. Default `PUB_KEY_ID_0114232134912410000000000000000000`. */
    platformPublicKeyId?: string;
  };
  /**
   * Pauses between delivery attempts of one notification until it is acknowledged. Default a compressed version of
   * the providers' schedules: 1 s, 2 s, 5 s, 10 s, 30 s, 60 s, 120 s, 300 s.
   */
  notifyRetryMs?: readonly number[];
  /** A WeChat refund stays PROCESSING this long before it succeeds and is notified. Default `300`. */
  wechatRefundDelayMs?: number;
  /** Requests whose timestamp is further than this from the simulator's clock are refused. Default `300` (seconds). */
  maxClockSkewSeconds?: number;
  /** Size of the `requests` log. Default `1000`. */
  maxRecordedRequests?: number;
}

export interface RecordedRequest {
  provider: 'alipay' | 'wechat' | 'cashier' | 'admin';
  method: string;
  /** Path plus query, with `sign` values replaced by `…`. */
  path: string;
  /** Operation, e.g. `alipay.trade.precreate`, `wechat.native`. */
  operation?: string | undefined;
  status: number;
  /** Why the request was refused, when it was. */
  error?: string | undefined;
  at: string;
}

/** One delivery attempt of a notification to the merchant. */
export interface NotificationAttempt {
  at: string;
  /** HTTP status, or 0 when the merchant could not be reached. */
  status: number;
  /** First 200 characters of the answer. */
  body: string;
  acknowledged: boolean;
}

export interface NotificationRecord {
  id: string;
  provider: 'alipay' | 'wechat';
  /** `trade_status_sync`, `TRANSACTION.SUCCESS`, `REFUND.SUCCESS`… */
  kind: string;
  outTradeNo: string;
  url: string;
  acknowledged: boolean;
  attempts: NotificationAttempt[];
}

/** Faults, set with `setFaults` or `PUT /__simulator/faults`. */
export interface PaymentSimulatorFaults {
  /** Payments and refunds send no notification at all (the merchant must find out by querying). */
  dropNotifications?: boolean;
  /** Every API call answers 500 `SYSTEM_ERROR` / `ACQ.SYSTEM_ERROR` (retryable). */
  systemError?: boolean;
}

/** A notification built on purpose to be rejected, for tests of the merchant's checks. */
export type ForgedVariant =
  /** Signed with a key the merchant does not trust. */
  | 'bad-signature'
  /** Amount differs from the order's (re-signed, so only the amount check can catch it). */
  | 'other-amount'
  /** Another merchant's app id / appid (re-signed). */
  | 'other-app'
  /** A WeChat notification signed 10 minutes in the past. */
  | 'stale-timestamp'
  /** A WeChat notification whose ciphertext was altered after encryption (GCM tag check fails). */
  | 'tampered-ciphertext'
  /** A well-formed, correctly signed copy of the last notification (a duplicate). */
  | 'duplicate';

export interface DeliveryResult {
  status: number;
  body: string;
}

export interface PaymentSimulator {
  /** Origin, e.g. `http://127.0.0.1:4012`. */
  url: string;
  /** Point `alipay-sdk` here: `gateway` (v2, page pay) and `endpoint` (v3 REST). */
  alipayGatewayUrl: string;
  alipayEndpoint: string;
  /** Alipay's public key (PEM) to configure as `alipayPublicKey`. */
  alipayPublicKey: string;
  /** WeChat Pay's base URL (`baseURL` of wechatpay-axios-plugin). */
  wechatBaseUrl: string;
  /** WeChat Pay's platform public key (PEM) and its id (`Wechatpay-Serial`). */
  wechatPlatformPublicKey: string;
  wechatPlatformPublicKeyId: string;
  /** Pays a trade as a buyer would at the cashier (`action=pay`). */
  pay(outTradeNo: string): Promise<void>;
  /** Sends the trade's last notification once more (`action=renotify`). */
  renotify(outTradeNo: string): Promise<DeliveryResult>;
  /** Sends a deliberately wrong notification for the trade once and returns the merchant's answer. */
  forge(outTradeNo: string, variant: ForgedVariant): Promise<DeliveryResult>;
  /** The simulator's view of a trade, in the provider's own words. */
  trade(outTradeNo: string): TradeView | undefined;
  notifications(): NotificationRecord[];
  requests(): RecordedRequest[];
  setFaults(faults: PaymentSimulatorFaults): void;
  /** Forgets trades, notifications, requests and faults; stops pending deliveries. */
  reset(): void;
  close(): Promise<void>;
}

export interface TradeView {
  provider: 'alipay' | 'wechat';
  outTradeNo: string;
  /** Alipay `trade_no` / WeChat `transaction_id` (null until paid at WeChat). */
  tradeNo: string | null;
  /** Alipay `trade_status` / WeChat `trade_state`. */
  state: string;
  amountFen: number;
  refundedFen: number;
  closed: boolean;
  paid: boolean;
}
