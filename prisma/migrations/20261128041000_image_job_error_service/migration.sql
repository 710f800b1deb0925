-- A job that failed with UPSTREAM_UNAVAILABLE names the service that was down (dashscope, oss, billing, image-worker).
ALTER TABLE `ImageJob` ADD COLUMN `errorService` VARCHAR(64) NULL;
