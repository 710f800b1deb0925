-- sendMessage and regenerateMessage accept an idempotencyKey: the assistant message records it (prefixed with the
-- operation), and the unique key makes a duplicate request (sequential or concurrent) find the first one's messages.
ALTER TABLE `Message` ADD COLUMN `idempotencyKey` VARCHAR(191) NULL;
CREATE UNIQUE INDEX `Message_tenantId_userId_idempotencyKey_key` ON `Message`(`tenantId`, `userId`, `idempotencyKey`);
