-- Credits spent through a partner's API key are tagged with the partner: the hold records it (from the calling
-- service's signed credential) and the settlement's ledger entry carries it. Nullable: every other row has none.
ALTER TABLE `Reservation` ADD COLUMN `partnerId` VARCHAR(191) NULL;

ALTER TABLE `LedgerEntry` ADD COLUMN `partnerId` VARCHAR(191) NULL;

CREATE INDEX `LedgerEntry_partnerId_createdAt_idx` ON `LedgerEntry`(`partnerId`, `createdAt`);
