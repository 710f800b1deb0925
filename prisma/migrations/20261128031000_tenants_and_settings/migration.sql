-- Tenants managed through the API (createTenant, setTenantHosts, setTenantStatus) and system settings in MySQL
-- (setSetting). Host mappings move from Tenant.hosts (never read) to one row per host, unique across tenants.
ALTER TABLE `Tenant` DROP COLUMN `hosts`,
    ADD COLUMN `status` ENUM('ACTIVE', 'SUSPENDED') NOT NULL DEFAULT 'ACTIVE',
    ADD COLUMN `updatedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3);

CREATE TABLE `TenantHost` (
    `host` VARCHAR(255) NOT NULL,
    `tenantId` VARCHAR(191) NOT NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `TenantHost_tenantId_idx`(`tenantId`),
    PRIMARY KEY (`host`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

ALTER TABLE `TenantHost` ADD CONSTRAINT `TenantHost_tenantId_fkey` FOREIGN KEY (`tenantId`) REFERENCES `Tenant`(`id`) ON DELETE CASCADE ON UPDATE CASCADE;

CREATE TABLE `Setting` (
    `key` VARCHAR(64) NOT NULL,
    `value` TEXT NOT NULL,
    `updatedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    PRIMARY KEY (`key`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `StateRevision` (
    `kind` VARCHAR(32) NOT NULL,
    `revision` INTEGER NOT NULL DEFAULT 0,

    PRIMARY KEY (`kind`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Revisions start at 0 (the user subgraph shares each kind's state with every process at its revision).
INSERT INTO `StateRevision` (`kind`, `revision`) VALUES ('tenants', 0), ('settings', 0);
