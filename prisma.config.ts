// Prisma CLI configuration: multi-file schema in prisma/schema, migrations in Prisma's own layout.
// The CLI is only used for `prisma generate` (see scripts/prisma-generate.mjs); migrations run through
// `npm run db:migrate` (packages/db/src/migrate), which needs no native engine.
import { defineConfig } from 'prisma/config';

export default defineConfig({
  schema: 'prisma/schema',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? 'mysql://root@127.0.0.1:3306/firefly' },
});
