-- The hold of an image job and the price per image it was held at, stored at creation, so the worker settles without
-- quoting the price again. Null for jobs created before this migration: those still ask billing at settlement.
ALTER TABLE `ImageJob` ADD COLUMN `creditsHeld` INTEGER NULL,
    ADD COLUMN `creditsPerImage` INTEGER NULL;
