-- A reference image's strength (DashScope's ref_strength, 0..1) and mode (ref_mode: repaint | refonly), both optional.
ALTER TABLE `ImageJob` ADD COLUMN `referenceStrength` DOUBLE NULL,
    ADD COLUMN `referenceMode` VARCHAR(16) NULL;
