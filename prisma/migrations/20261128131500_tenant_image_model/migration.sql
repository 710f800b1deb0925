-- Per-tenant departures from the platform's image model catalog (setTenantImageModel): a model hidden for one tenant
-- leaves its imageModels and takes no new image job there. No row: the tenant sees the platform's catalog.
CREATE TABLE `TenantImageModel` (
    `tenantId` VARCHAR(191) NOT NULL,
    `modelId` VARCHAR(191) NOT NULL,
    `hidden` BOOLEAN NOT NULL DEFAULT false,
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`tenantId`, `modelId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
