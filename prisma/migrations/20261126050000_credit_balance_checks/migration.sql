-- Last line of defence for the credit ledger: whatever the application does, the database refuses a negative
-- balance or hold. (Prisma's schema language has no CHECK constraints, so this lives in SQL only; the drift test
-- compares columns and keys, not checks.)
ALTER TABLE `CreditAccount` ADD CONSTRAINT `CreditAccount_available_nonnegative` CHECK (`available` >= 0);
ALTER TABLE `CreditAccount` ADD CONSTRAINT `CreditAccount_reserved_nonnegative` CHECK (`reserved` >= 0);
