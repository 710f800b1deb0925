/**
 * The names a subgraph's SDL may use in its access directives, and what each grants. The one list both sides read:
 * `access.ts` enforces exactly these at run time, and the supergraph tooling (`tools/supergraph`) refuses SDL that
 * names anything else at build time — composition itself ignores what it does not know, so a typo would otherwise
 * leave a field open. Kept free of imports so build tools can load it without the server stack.
 */

/** Scopes of `@requiresScopes(scopes: [[…]])`. */
export const ACCESS_SCOPES = {
  admin: 'a signed-in user with the ADMIN role',
  user: 'any signed-in user',
  service: 'one of our own services (service credential), never an end user; it acts for the user named in its arguments',
} as const;
export type AccessScope = keyof typeof ACCESS_SCOPES;

/** Policies of `@policy(policies: [[…]])`. */
export const ACCESS_POLICIES = {
  public: 'anyone, anonymous callers included, within the request’s tenant',
  owner: 'the owner of the object (a User owns itself; any other row: its userId) or an ADMIN; on a root field, any signed-in user, and the resolver scopes the lookup to the caller',
  owner_or_masked: 'whoever may read the object; the resolver masks the value unless the caller is the owner or an ADMIN',
} as const;
export type AccessPolicy = keyof typeof ACCESS_POLICIES;

/** The directives that declare access (federation's own). */
export const ACCESS_DIRECTIVES = ['authenticated', 'requiresScopes', 'policy'] as const;

export function isAccessScope(name: string): name is AccessScope {
  return Object.hasOwn(ACCESS_SCOPES, name);
}

export function isAccessPolicy(name: string): name is AccessPolicy {
  return Object.hasOwn(ACCESS_POLICIES, name);
}
