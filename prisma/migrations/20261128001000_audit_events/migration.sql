-- The audit log (prisma/schema/user.prisma, AuditEvent): append-only.
CREATE TABLE `AuditEvent` (
    `id` VARCHAR(191) NOT NULL,
    `tenantId` VARCHAR(191) NOT NULL,
    `actor` VARCHAR(191) NOT NULL,
    `action` VARCHAR(64) NOT NULL,
    `targetType` VARCHAR(64) NULL,
    `targetId` VARCHAR(191) NULL,
    `details` TEXT NULL,
    `requestId` VARCHAR(128) NULL,
    `createdAt` DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),

    INDEX `AuditEvent_tenantId_createdAt_idx`(`tenantId`, `createdAt`),
    INDEX `AuditEvent_tenantId_action_createdAt_idx`(`tenantId`, `action`, `createdAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- History cannot be rewritten: every UPDATE or DELETE of a row fails, whoever sends it.
CREATE TRIGGER `AuditEvent_no_update` BEFORE UPDATE ON `AuditEvent` FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'AuditEvent rows are append-only';
CREATE TRIGGER `AuditEvent_no_delete` BEFORE DELETE ON `AuditEvent` FOR EACH ROW
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'AuditEvent rows are append-only';
