-- The payment-success SMS: billing's outbox (written with PENDING → PAID) and the user subgraph's once-per-order log.
CREATE TABLE `OrderPaidNotice` (
    `orderId` VARCHAR(191) NOT NULL,
    `tenantId` VARCHAR(191) NOT NULL,
    `userId` VARCHAR(191) NOT NULL,
    `credits` INTEGER NOT NULL,
    `amountFen` INTEGER NOT NULL,
    `state` ENUM('PENDING', 'DONE', 'PARKED') NOT NULL DEFAULT 'PENDING',
    `attempts` INTEGER NOT NULL DEFAULT 0,
    `nextAttemptAt` DATETIME(3) NOT NULL,
    `outcome` VARCHAR(32) NULL,
    `lastError` VARCHAR(512) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `OrderPaidNotice_state_nextAttemptAt_idx`(`state`, `nextAttemptAt`),
    PRIMARY KEY (`orderId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `OrderPaidSms` (
    `orderId` VARCHAR(191) NOT NULL,
    `tenantId` VARCHAR(191) NOT NULL,
    `userId` VARCHAR(191) NOT NULL,
    `status` ENUM('SENDING', 'SENT', 'NO_PHONE', 'FAILED') NOT NULL,
    `attempts` INTEGER NOT NULL DEFAULT 1,
    `messageId` VARCHAR(128) NULL,
    `lastError` VARCHAR(256) NULL,
    `createdAt` DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
    `updatedAt` DATETIME(3) NOT NULL,

    INDEX `OrderPaidSms_tenantId_userId_idx`(`tenantId`, `userId`),
    PRIMARY KEY (`orderId`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
