import { commonShape, databaseShape, parseConfig, port, positiveInt, rateLimitOverrides, redisShape, refuseDevelopmentDefaults, url, z } from '@firefly/config';

const nonNegativeInt = (fallback: number) =>
  z.coerce.number({ error: 'expected a whole number' }).int().min(0, { error: 'expected 0 or more' }).default(fallback);

const schema = z.object({
  ...commonShape,
  ...databaseShape,
  ...redisShape,
  BILLING_SUBGRAPH_PORT: port(4004),
  /** Credits booked once (ledger reason GRANT) when an account is created. 0 disables the grant. */
  SIGNUP_GRANT_CREDITS: nonNegativeInt(100),
  /** Longest hold a caller may ask for; bounds how long credits can be stuck if a caller dies. */
  RESERVATION_MAX_TTL_SECONDS: positiveInt(86_400),
  /** How often the sweeper releases HELD reservations past their expiry. */
  RESERVATION_SWEEP_INTERVAL_SECONDS: positiveInt(30),
  /** Most expired reservations released per sweep round (rounds repeat until none are left). */
  RESERVATION_SWEEP_BATCH_SIZE: positiveInt(100),

  // ---- payments (docs/payments.md) ----
  /** A PENDING order closes unpaid after this long. */
  ORDER_TTL_SECONDS: positiveInt(900),
  /** PENDING orders one user may have open at once; one more is RATE_LIMITED until one is paid, cancelled or expires. */
  ORDER_MAX_OPEN_PER_USER: positiveInt(5),
  /** How often PENDING orders are checked with their provider (lost notifications, expiry). */
  ORDER_RECONCILE_INTERVAL_SECONDS: positiveInt(30),
  /** A PENDING order is checked once it is this old (its notification normally comes first). */
  ORDER_RECONCILE_AFTER_SECONDS: positiveInt(60),
  /** Orders checked per round. */
  ORDER_RECONCILE_BATCH_SIZE: positiveInt(50),
  /**
   * Days a PaymentNotification record (every notification received, with its verdict) is kept; older ones are deleted,
   * except those of an order still PENDING or REFUNDING. 0 keeps them forever.
   */
  PAYMENT_NOTIFICATION_RETENTION_DAYS: nonNegativeInt(180),
  /** How often records past their retention are deleted. */
  PAYMENT_NOTIFICATION_PRUNE_INTERVAL_SECONDS: positiveInt(3_600),
  /** The public origin of the gateway: providers POST notifications to <this>/payments/{alipay,wechat}/notify. */
  PAYMENT_NOTIFY_BASE_URL: url(['http', 'https'], 'http://127.0.0.1:4000'),
  /**
   * Development and tests: the payment simulator's origin. Providers without their own URL use it, and WeChat
   * orders get a payUrl opening the simulator's stand-in for scanning code_url. Refused in production.
   */
  PAYMENT_SIMULATOR_URL: url(['http', 'https']).optional(),
  ALIPAY_APP_ID: z.string().optional(),
  /** The application's private key (PEM, PKCS#1 or PKCS#8; or the bare base64 of a PKCS#1 key). */
  ALIPAY_PRIVATE_KEY: z.string().optional(),
  /** Alipay's public key (PEM or bare base64): verifies answers and notifications. */
  ALIPAY_PUBLIC_KEY: z.string().optional(),
  /** v2 gateway (page pay URLs). Default https://openapi.alipay.com/gateway.do, or the simulator's. */
  ALIPAY_GATEWAY_URL: url(['http', 'https']).optional(),
  /** v3 REST origin (precreate, query, close, refund). Default https://openapi.alipay.com, or the simulator. */
  ALIPAY_ENDPOINT: url(['http', 'https']).optional(),
  /** The seller id (2088…) notifications must name; unset: not checked. */
  ALIPAY_SELLER_ID: z.string().optional(),
  ALIPAY_TIMEOUT_MS: positiveInt(5_000),
  WECHATPAY_MCHID: z.string().optional(),
  WECHATPAY_APPID: z.string().optional(),
  /** Serial number of the merchant API certificate (hex). */
  WECHATPAY_MERCHANT_SERIAL: z.string().optional(),
  /** The merchant API private key (apiclient_key.pem). */
  WECHATPAY_PRIVATE_KEY: z.string().optional(),
  /** WeChat Pay's public key (PEM) and its id (PUB_KEY_ID_…): verifies answers and notifications. */
  WECHATPAY_PLATFORM_PUBLIC_KEY: z.string().optional(),
  WECHATPAY_PLATFORM_PUBLIC_KEY_ID: z.string().optional(),
  /** The 32-character APIv3 key that decrypts notification resources. */
  WECHATPAY_APIV3_KEY: z.string().length(32, { error: 'expected exactly 32 characters' }).optional(),
  /** Default https://api.mch.weixin.qq.com/, or the simulator's. */
  WECHATPAY_BASE_URL: url(['http', 'https']).optional(),
  WECHATPAY_TIMEOUT_MS: positiveInt(5_000),
  // ---- payment-success SMS (docs/payments.md, "SMS on a paid order") ----
  /** The user subgraph's GraphQL endpoint: billing asks it (service credential) to send a paid order's SMS. */
  USER_SUBGRAPH_URL: url(['http', 'https'], 'http://127.0.0.1:4001/graphql'),
  /** How often owed SMS that are due (first try failed or never ran) are delivered. */
  ORDER_SMS_INTERVAL_SECONDS: positiveInt(10),
  /** Pause before the second attempt; doubles each attempt, at most an hour. */
  ORDER_SMS_RETRY_SECONDS: positiveInt(15),
  /** Attempts before an owed SMS is PARKED (logged, counted) for an operator. */
  ORDER_SMS_MAX_ATTEMPTS: positiveInt(10),
  /**
   * Overrides of the `@rateLimit` values in schema.graphql (default 120 calls per user per minute on every mutation;
   * our own services are never counted): `Mutation.createOrder=10/60` (limit/seconds). Default: none.
   */
  BILLING_RATE_LIMITS: rateLimitOverrides(),
});

export type BillingConfig = ReturnType<typeof loadBillingConfig>;

export function loadBillingConfig(env: Record<string, string | undefined> = process.env) {
  const config = parseConfig(schema, env);
  refuseDevelopmentDefaults(config, config.PAYMENT_SIMULATOR_URL ? ['PAYMENT_SIMULATOR_URL: production never uses the payment simulator'] : []);
  return config;
}
