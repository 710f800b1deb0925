// Reading users' emails and phones as the database holds them: sealed, and found through their blind indexes with
// the keys the test processes run with (none set: the development keys of @firefly/crypto, as in `npm start`).
import { piiCryptoFromEnv } from '@firefly/crypto';
import type { Db } from '@firefly/db';

const crypto = piiCryptoFromEnv({ NODE_ENV: 'test' });

/** The blind index of a (lower-cased) email in a tenant, as the user subgraph stores it. */
export const emailIndexOf = (email: string, tenantId = 'default') => crypto.blindIndex(tenantId, 'email', email.trim().toLowerCase());
/** The blind index of an 11-digit mainland phone in a tenant, as the user subgraph stores it (E.164). */
export const phoneIndexOf = (phone: string, tenantId = 'default') => crypto.blindIndex(tenantId, 'phone', `+86${phone}`);

/** The user row registered with this email (through its blind index). */
export function findUserByEmail(db: Db, email: string, tenantId = 'default') {
  return db.user.findFirstOrThrow({ where: { tenantId, emailIndex: emailIndexOf(email, tenantId) } });
}
