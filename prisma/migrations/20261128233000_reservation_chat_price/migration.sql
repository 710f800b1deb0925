-- A chat hold's price, stored with the hold: reserveChatCredits priced the hold a moment before the reservation was
-- stamped, and the settlement was priced at that stamp, so a price change in between charged at a price the hold was
-- not made at. Null for other holds and for chat holds made before this migration (those keep the versioned lookup).
ALTER TABLE `Reservation` ADD COLUMN `chatModelId` VARCHAR(191) NULL,
    ADD COLUMN `chatInputPer1kTokens` INTEGER NULL,
    ADD COLUMN `chatOutputPer1kTokens` INTEGER NULL;
