import type { Identity } from '@firefly/auth';

/**
 * How long one signed gateway credential is reused on a long-lived connection. Credentials live 60 s
 * (createCredentialSigner's default); a request signs once, but a subscription fetches entities for as long as it
 * runs, so a credential signed at connect would be refused after a minute (the router#3731 class of bug).
 */
const CREDENTIAL_REUSE_MS = 30_000;

/** A `GatewayContext.credential` for a connection: re-signed once the current one is older than `reuseMs`. */
export function createRefreshingCredential(
  sign: (identity: Identity) => Promise<string>,
  identity: Identity,
  reuseMs: number = CREDENTIAL_REUSE_MS,
  now: () => number = Date.now,
): () => Promise<string> {
  let current: { signedAt: number; credential: Promise<string> } | undefined;
  return () => {
    const at = now();
    if (!current || at - current.signedAt >= reuseMs) {
      const credential = sign(identity);
      current = { signedAt: at, credential };
      // A failed signature must not be cached.
      credential.catch(() => {
        if (current?.credential === credential) current = undefined;
      });
    }
    return current.credential;
  };
}
