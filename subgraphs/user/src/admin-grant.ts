/**
 * Granting ADMIN to an existing account from the operator's shell (`npm run admin:grant`): how the first admin of
 * a tenant is made, since no API call can make an admin without one. Tokens carry roles from sign-in, so sessions
 * signed in after the grant carry ADMIN; sessions already open keep the roles they were issued with.
 */
import type { PiiCrypto } from '@firefly/crypto';
import { recordAudit, transact, type Db } from '@firefly/db';
import { DEFAULT_TENANT_ID } from '@firefly/db/seed';
import { createUserPii } from './data/user-pii.ts';
import { parseLogin } from './domain/identifiers.ts';

export type AdminGrant =
  | { outcome: 'granted' | 'already-admin'; userId: string; tenantId: string; roles: string[] }
  | { outcome: 'not-found'; tenantId: string }
  | { outcome: 'invalid-login' };

/**
 * Adds ADMIN to the roles of the account with this email or mainland mobile number in the tenant, found through its
 * blind index (PII_INDEX_KEY: the same keys as the user subgraph), or its clear column while `pii:encrypt` has not
 * sealed it yet.
 */
export async function grantAdmin(db: Db, crypto: PiiCrypto, login: string, tenantId: string = DEFAULT_TENANT_ID): Promise<AdminGrant> {
  const parsed = parseLogin(login);
  if (!parsed) return { outcome: 'invalid-login' };
  const pii = createUserPii(crypto);
  const where =
    parsed.kind === 'email'
      ? { tenantId, OR: [{ emailIndex: pii.emailIndex(tenantId, parsed.email) }, { email: parsed.email }] }
      : { tenantId, OR: [{ phoneIndex: pii.phoneIndex(tenantId, parsed.phone) }, { phone: parsed.phone }] };
  const user = await db.user.findFirst({ where, select: { id: true, roles: true } });
  if (!user) return { outcome: 'not-found', tenantId };
  const roles = user.roles.split(',').filter(Boolean);
  if (roles.includes('ADMIN')) return { outcome: 'already-admin', userId: user.id, tenantId, roles };
  const granted = [...roles, 'ADMIN'];
  // Conditional on the roles read, so a concurrent change of roles is not overwritten.
  // The grant and its audit event (actor `cli:admin-grant`) commit together.
  const changed = await transact(db, async (tx) => {
    const { count } = await tx.user.updateMany({ where: { id: user.id, tenantId, roles: user.roles }, data: { roles: granted.join(',') } });
    if (count === 0) return false;
    const details = { before: { roles: user.roles }, after: { roles: granted.join(',') } };
    await recordAudit(tx, { tenantId, actor: 'cli:admin-grant', action: 'admin:grant', targetType: 'User', targetId: user.id, details });
    return true;
  });
  if (!changed) return grantAdmin(db, crypto, login, tenantId);
  return { outcome: 'granted', userId: user.id, tenantId, roles: granted };
}
