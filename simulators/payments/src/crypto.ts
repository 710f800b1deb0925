import { createCipheriv, createSign, createVerify, generateKeyPairSync, randomBytes } from 'node:crypto';

/** A fresh RSA-2048 key pair as PEM (PKCS#8 private, SPKI public), as the providers' key tools produce. */
export function generateRsaKeyPair(): { privateKey: string; publicKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

/** Accepts a PEM or the bare base64 body Alipay's key tool prints (public keys only here). */
function publicKeyPem(key: string): string {
  const trimmed = key.trim();
  if (trimmed.startsWith('-----BEGIN')) return trimmed;
  const body = trimmed.replace(/\s+/g, '').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN PUBLIC KEY-----\n${body}\n-----END PUBLIC KEY-----`;
}

/** SHA256withRSA (PKCS#1 v1.5), base64: "RSA2" at Alipay, "WECHATPAY2-SHA256-RSA2048" at WeChat Pay. */
export function rsaSign(message: string, privateKey: string): string {
  return createSign('RSA-SHA256').update(message, 'utf8').sign(privateKey, 'base64');
}

export function rsaVerify(message: string, signature: string, publicKey: string): boolean {
  try {
    return createVerify('RSA-SHA256').update(message, 'utf8').verify(publicKeyPem(publicKey), signature, 'base64');
  } catch {
    return false;
  }
}

/** AEAD_AES_256_GCM as WeChat Pay encrypts notification resources: base64(ciphertext || 16-byte tag). */
export function aesGcmEncrypt(plaintext: string, apiV3Key: string, nonce: string, associatedData: string): string {
  const cipher = createCipheriv('aes-256-gcm', Buffer.from(apiV3Key, 'utf8'), Buffer.from(nonce, 'utf8'));
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const encrypted = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([encrypted, cipher.getAuthTag()]).toString('base64');
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** Random [A-Za-z0-9] string (WeChat nonces, ids). */
export function randomToken(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
  return out;
}

/** Random decimal digits (Alipay trade numbers, notify ids). */
export function randomDigits(length: number): string {
  let out = '';
  for (const byte of randomBytes(length)) out += String(byte % 10);
  return out;
}
