-- The MySQL-side generation sweep looks for STREAMING answers across tenants, oldest first, every few seconds.
CREATE INDEX `Message_status_createdAt_idx` ON `Message`(`status`, `createdAt`);
