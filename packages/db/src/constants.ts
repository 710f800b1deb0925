/** The tenant every installation has from the first migration on (`prisma/migrations/*_init`). */
export const DEFAULT_TENANT_ID = 'default';
