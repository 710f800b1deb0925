-- Catalog management (upsertChatModel, upsertImageModel): the provider of a chat model, and price versions so a
-- message or image job is charged at the price in force when its credits were reserved.
ALTER TABLE `ChatModel` ADD COLUMN `provider` VARCHAR(64) NOT NULL DEFAULT 'dashscope';

CREATE TABLE `ChatPriceVersion` (
    `modelId` VARCHAR(191) NOT NULL,
    `validFrom` DATETIME(3) NOT NULL,
    `inputPer1kTokens` INTEGER NOT NULL,
    `outputPer1kTokens` INTEGER NOT NULL,

    PRIMARY KEY (`modelId`, `validFrom`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

CREATE TABLE `ImagePriceVersion` (
    `modelId` VARCHAR(191) NOT NULL,
    `size` VARCHAR(191) NOT NULL DEFAULT '*',
    `validFrom` DATETIME(3) NOT NULL,
    `perImage` INTEGER NOT NULL,

    PRIMARY KEY (`modelId`, `size`, `validFrom`)
) DEFAULT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;

-- Today's prices have been in force since always: every reservation made before this migration keeps them.
INSERT INTO `ChatPriceVersion` (`modelId`, `validFrom`, `inputPer1kTokens`, `outputPer1kTokens`)
    SELECT `modelId`, '1970-01-02 00:00:00.000', `inputPer1kTokens`, `outputPer1kTokens` FROM `ChatPrice`;
INSERT INTO `ImagePriceVersion` (`modelId`, `size`, `validFrom`, `perImage`)
    SELECT `modelId`, `size`, '1970-01-02 00:00:00.000', `perImage` FROM `ImagePrice`;
