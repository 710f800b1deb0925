-- Personal data encrypted at rest (docs/operations.md, "Personal data encryption"): users' emails and phones are
-- stored sealed (AES-256-GCM envelopes naming their master key id) and found through keyed-hash blind indexes,
-- unique per tenant like the clear columns were. The clear columns stay for now: new rows never fill them, and
-- `npm run pii:encrypt` seals the rows written before this release and empties their clear columns; a later
-- release drops them.
ALTER TABLE `User`
    ADD COLUMN `emailCiphertext` VARCHAR(640) NULL,
    ADD COLUMN `phoneCiphertext` VARCHAR(255) NULL,
    ADD COLUMN `emailIndex` CHAR(64) NULL,
    ADD COLUMN `phoneIndex` CHAR(64) NULL,
    ADD UNIQUE INDEX `User_tenantId_emailIndex_key`(`tenantId`, `emailIndex`),
    ADD UNIQUE INDEX `User_tenantId_phoneIndex_key`(`tenantId`, `phoneIndex`);
