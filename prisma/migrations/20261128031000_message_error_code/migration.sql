-- A failed answer says why in a stable code (CONTENT_REJECTED, UPSTREAM_UNAVAILABLE, …) beside its readable error.
ALTER TABLE `Message` ADD COLUMN `errorCode` VARCHAR(64) NULL;
