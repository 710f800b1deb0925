#!/bin/sh
# Stand-in for Prisma's native schema engine, which cannot be downloaded offline. `prisma generate` does not
# need it; anything that does (migrate, db push) must use `npm run db:migrate` instead.
echo "prisma schema engine is not available offline; use 'npm run db:migrate'" >&2
exit 1
