-- What partners ran through their keys: counts per partner, UTC day, listed operation and whom the requests acted as
-- (the partner's account, or a user whose bearer token came with the key). The gateways add their counts in batches.
CREATE TABLE `PartnerUsage` (
    `partnerId` VARCHAR(191) NOT NULL,
    `tenantId` VARCHAR(191) NOT NULL,
    `day` DATE NOT NULL,
    `operationId` CHAR(64) NOT NULL,
    `operationName` VARCHAR(128) NOT NULL,
    `actingAs` ENUM('ACCOUNT', 'USER') NOT NULL,
    `requests` INTEGER NOT NULL,
    `errors` INTEGER NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `PartnerUsage_tenantId_idx`(`tenantId`),
    PRIMARY KEY (`partnerId`, `day`, `operationId`, `actingAs`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `PartnerUsage` ADD CONSTRAINT `PartnerUsage_partnerId_fkey` FOREIGN KEY (`partnerId`) REFERENCES `Partner`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
