-- An image job may take one of its owner's uploads (createUploadUrl) as its reference image.
ALTER TABLE `ImageJob` ADD COLUMN `referenceImageKey` VARCHAR(512) NULL;
