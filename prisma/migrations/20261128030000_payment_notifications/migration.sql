-- Every payment-provider notification billing received (accepted, duplicate, refused with the reason, failed), for admins.
CREATE TABLE `PaymentNotification` (
    `id` VARCHAR(191) NOT NULL,
    `channel` ENUM('ALIPAY', 'WECHAT') NOT NULL,
    `orderId` VARCHAR(191) NULL,
    `tenantId` VARCHAR(191) NULL,
    `reference` VARCHAR(64) NULL,
    `verdict` ENUM('ACCEPTED', 'DUPLICATE', 'REFUSED', 'FAILED') NOT NULL,
    `reason` VARCHAR(64) NOT NULL,
    `payloadSha256` VARCHAR(64) NOT NULL,
    `receivedAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),

    INDEX `PaymentNotification_orderId_receivedAt_idx`(`orderId`, `receivedAt`),
    INDEX `PaymentNotification_receivedAt_idx`(`receivedAt`),
    PRIMARY KEY (`id`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
