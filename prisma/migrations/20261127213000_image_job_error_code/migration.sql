-- A failed image job says why in a stable code (CONTENT_REJECTED, UPSTREAM_UNAVAILABLE, …) beside its readable error.
ALTER TABLE `ImageJob` ADD COLUMN `errorCode` VARCHAR(64) NULL;
