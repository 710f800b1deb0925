/** Accepts a PEM, or the bare base64 body the providers' key tools print, and returns a PEM of `label`. */
export function toPem(key: string, label: 'PUBLIC KEY' | 'PRIVATE KEY' | 'RSA PRIVATE KEY'): string {
  const trimmed = key.trim().replace(/\\n/g, '\n');
  if (trimmed.startsWith('-----BEGIN')) return trimmed;
  const body = trimmed.replace(/\s+/g, '').match(/.{1,64}/g)?.join('\n') ?? '';
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----`;
}

/** PKCS8 when the PEM says `BEGIN PRIVATE KEY`, else PKCS1 (what alipay-sdk assumes for bare base64). */
export function privateKeyType(key: string): 'PKCS1' | 'PKCS8' {
  return key.includes('BEGIN PRIVATE KEY') ? 'PKCS8' : 'PKCS1';
}
