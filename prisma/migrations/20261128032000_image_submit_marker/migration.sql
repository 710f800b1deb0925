-- Set right before a DashScope submit: a runner that finds it with no task id resolves the earlier, interrupted submit
-- (adopts the task it made) instead of submitting a second task blindly.
ALTER TABLE `ImageJob` ADD COLUMN `submitStartedAt` DATETIME(3) NULL;
-- One job per DashScope task: a runner adopting the task of an interrupted submit can never take another job's.
CREATE UNIQUE INDEX `ImageJob_taskId_key` ON `ImageJob`(`taskId`);
