-- Partners' persisted query lists: one per partner, replaced (version + 1) by every publishPersistedQueries.
CREATE TABLE `PersistedQueryList` (
    `partnerId` VARCHAR(191) NOT NULL,
    `tenantId` VARCHAR(191) NOT NULL,
    `version` INTEGER NOT NULL,
    `operationCount` INTEGER NOT NULL,
    `operations` LONGTEXT NOT NULL,
    `publishedAt` DATETIME(3) NOT NULL,

    INDEX `PersistedQueryList_tenantId_idx`(`tenantId`),
    PRIMARY KEY (`partnerId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `PersistedQueryList` ADD CONSTRAINT `PersistedQueryList_partnerId_fkey` FOREIGN KEY (`partnerId`) REFERENCES `Partner`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;
