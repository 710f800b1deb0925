import { randomBytes } from 'node:crypto';
import { generateRsaKeyPair, randomToken } from './crypto.ts';
import type { PaymentSimulatorOptions } from './types.ts';

/**
 * Both sides' keys for one development or test setup, as the real onboarding hands them out: the merchant keeps its
 * private keys and uploads the public halves; the provider keeps its private keys and publishes the public halves.
 */
export interface PaymentKeySet {
  alipay: { appId: string; appPrivateKey: string; appPublicKey: string; alipayPrivateKey: string; alipayPublicKey: string };
  wechat: {
    mchid: string;
    appid: string;
    merchantSerial: string;
    merchantPrivateKey: string;
    merchantPublicKey: string;
    platformPrivateKey: string;
    platformPublicKey: string;
    platformPublicKeyId: string;
    apiV3Key: string;
  };
}

export function generatePaymentKeySet(): PaymentKeySet {
  const app = generateRsaKeyPair();
  const alipay = generateRsaKeyPair();
  const merchant = generateRsaKeyPair();
  const platform = generateRsaKeyPair();
  return {
    alipay: { appId: '2021000000000001', appPrivateKey: app.privateKey, appPublicKey: app.publicKey, alipayPrivateKey: alipay.privateKey, alipayPublicKey: alipay.publicKey },
    wechat: {
      mchid: '1900000001',
      appid: 'wxd678efh567hg6787',
      merchantSerial: randomBytes(20).toString('hex').toUpperCase(),
      merchantPrivateKey: merchant.privateKey,
      merchantPublicKey: merchant.publicKey,
      platformPrivateKey: platform.privateKey,
      platformPublicKey: platform.publicKey,
      platformPublicKeyId: `PUB_KEY_ID_0114${randomToken(28).toUpperCase()}`,
      apiV3Key: randomToken(32),
    },
  };
}

/** The simulator's side of a key set. */
export function simulatorKeysOf(keys: PaymentKeySet): Pick<PaymentSimulatorOptions, 'alipay' | 'wechat'> {
  return {
    alipay: { appId: keys.alipay.appId, appPublicKey: keys.alipay.appPublicKey, privateKey: keys.alipay.alipayPrivateKey },
    wechat: {
      mchid: keys.wechat.mchid,
      appid: keys.wechat.appid,
      merchantSerial: keys.wechat.merchantSerial,
      merchantPublicKey: keys.wechat.merchantPublicKey,
      apiV3Key: keys.wechat.apiV3Key,
      platformPrivateKey: keys.wechat.platformPrivateKey,
      platformPublicKeyId: keys.wechat.platformPublicKeyId,
    },
  };
}

/** The merchant's side as the billing subgraph's environment variables (.env.example, "billing: payments"), pointed at `simulatorUrl`. */
export function merchantEnvOf(keys: PaymentKeySet, simulatorUrl: string): Record<string, string> {
  return {
    PAYMENT_SIMULATOR_URL: simulatorUrl,
    ALIPAY_APP_ID: keys.alipay.appId,
    ALIPAY_PRIVATE_KEY: keys.alipay.appPrivateKey,
    ALIPAY_PUBLIC_KEY: keys.alipay.alipayPublicKey,
    WECHATPAY_MCHID: keys.wechat.mchid,
    WECHATPAY_APPID: keys.wechat.appid,
    WECHATPAY_MERCHANT_SERIAL: keys.wechat.merchantSerial,
    WECHATPAY_PRIVATE_KEY: keys.wechat.merchantPrivateKey,
    WECHATPAY_PLATFORM_PUBLIC_KEY: keys.wechat.platformPublicKey,
    WECHATPAY_PLATFORM_PUBLIC_KEY_ID: keys.wechat.platformPublicKeyId,
    WECHATPAY_APIV3_KEY: keys.wechat.apiV3Key,
  };
}
