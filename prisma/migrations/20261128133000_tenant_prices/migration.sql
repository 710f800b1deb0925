-- Per-tenant price overrides (setTenantChatPrice, setTenantImagePrice; platform admins), versioned like the
-- platform's prices: a reservation made for a user of the tenant is priced at the newest version at or before its
-- creation. A version with null prices ends the override (the tenant pays the platform's price from then on).
CREATE TABLE `TenantChatPriceVersion` (
    `tenantId` VARCHAR(191) NOT NULL,
    `modelId` VARCHAR(191) NOT NULL,
    `validFrom` DATETIME(3) NOT NULL,
    `inputPer1kTokens` INTEGER NULL,
    `outputPer1kTokens` INTEGER NULL,

    PRIMARY KEY (`tenantId`, `modelId`, `validFrom`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `TenantImagePriceVersion` (
    `tenantId` VARCHAR(191) NOT NULL,
    `modelId` VARCHAR(191) NOT NULL,
    `validFrom` DATETIME(3) NOT NULL,
    `perImage` INTEGER NULL,

    PRIMARY KEY (`tenantId`, `modelId`, `validFrom`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
