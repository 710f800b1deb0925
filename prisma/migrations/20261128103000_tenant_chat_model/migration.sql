-- Per-tenant departures from the platform's chat model catalog (setTenantChatModel): a model hidden for one tenant
-- leaves its catalog and takes no new conversation or answer there. No row: the tenant sees the platform's catalog.
CREATE TABLE `TenantChatModel` (
    `tenantId` VARCHAR(191) NOT NULL,
    `modelId` VARCHAR(191) NOT NULL,
    `hidden` BOOLEAN NOT NULL DEFAULT false,
    `updatedAt` DATETIME(3) NOT NULL,

    PRIMARY KEY (`tenantId`, `modelId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
