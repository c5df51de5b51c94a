ALTER TABLE `audit_head` ADD `anchor_seq` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `audit_head` ADD `anchor_hash` text DEFAULT '0000000000000000000000000000000000000000000000000000000000000000' NOT NULL;--> statement-breakpoint
CREATE INDEX `audit_log_at` ON `audit_log` (`at`);--> statement-breakpoint
CREATE INDEX `audit_log_action` ON `audit_log` (`action`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_log_actor` ON `audit_log` (`actor_type`,`actor_id`,`seq`);--> statement-breakpoint
CREATE INDEX `audit_log_target` ON `audit_log` (`target`,`seq`);