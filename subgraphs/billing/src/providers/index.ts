import type { BillingConfig } from '../config.ts';
import type { PaymentProviders } from '../domain/payment-ports.ts';
import { createAlipayProvider, createAlipaySdk, type AlipaySettings } from './alipay.ts';
import { createWechatClient, createWechatProvider, type WechatSettings } from './wechat.ts';

/** The channels whose credentials are configured; a channel without them refuses orders. */
export function createPaymentProviders(config: BillingConfig): PaymentProviders {
  const providers: PaymentProviders = {};
  const simulator = config.PAYMENT_SIMULATOR_URL?.replace(/\/$/, '');
  const notifyBase = config.PAYMENT_NOTIFY_BASE_URL.replace(/\/$/, '');

  if (config.ALIPAY_APP_ID && config.ALIPAY_PRIVATE_KEY && config.ALIPAY_PUBLIC_KEY) {
    const settings: AlipaySettings = {
      appId: config.ALIPAY_APP_ID,
      privateKey: config.ALIPAY_PRIVATE_KEY,
      alipayPublicKey: config.ALIPAY_PUBLIC_KEY,
      gateway: config.ALIPAY_GATEWAY_URL ?? (simulator ? `${simulator}/gateway.do` : 'https://openapi.alipay.com/gateway.do'),
      endpoint: (config.ALIPAY_ENDPOINT ?? simulator ?? 'https://openapi.alipay.com').replace(/\/$/, ''),
      timeoutMs: config.ALIPAY_TIMEOUT_MS,
      notifyUrl: `${notifyBase}/payments/alipay/notify`,
      sellerId: config.ALIPAY_SELLER_ID ?? null,
    };
    providers.ALIPAY = createAlipayProvider(createAlipaySdk(settings), settings);
  }

  if (
    config.WECHATPAY_MCHID &&
    config.WECHATPAY_APPID &&
    config.WECHATPAY_MERCHANT_SERIAL &&
    config.WECHATPAY_PRIVATE_KEY &&
    config.WECHATPAY_PLATFORM_PUBLIC_KEY &&
    config.WECHATPAY_PLATFORM_PUBLIC_KEY_ID &&
    config.WECHATPAY_APIV3_KEY
  ) {
    const settings: WechatSettings = {
      mchid: config.WECHATPAY_MCHID,
      appid: config.WECHATPAY_APPID,
      merchantSerial: config.WECHATPAY_MERCHANT_SERIAL,
      privateKey: config.WECHATPAY_PRIVATE_KEY,
      platformPublicKey: config.WECHATPAY_PLATFORM_PUBLIC_KEY,
      platformPublicKeyId: config.WECHATPAY_PLATFORM_PUBLIC_KEY_ID,
      apiV3Key: config.WECHATPAY_APIV3_KEY,
      baseUrl: config.WECHATPAY_BASE_URL ?? (simulator ? `${simulator}/` : 'https://api.mch.weixin.qq.com/'),
      timeoutMs: config.WECHATPAY_TIMEOUT_MS,
      notifyUrl: `${notifyBase}/payments/wechat/notify`,
      scanPageUrl: simulator ? `${simulator}/wechat/scan` : null,
    };
    providers.WECHAT = createWechatProvider(createWechatClient(settings), settings);
  }
  return providers;
}
