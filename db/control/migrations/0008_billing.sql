CREATE TABLE `payments` (
	`id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`workspace_id` text NOT NULL,
	`user_id` text NOT NULL,
	`subscription_id` text,
	`payment_id` text,
	`invoice_id` text,
	`amount` integer NOT NULL,
	`currency` text NOT NULL,
	`status` text NOT NULL,
	`occurred_at` integer NOT NULL,
	`recorded_at` integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX `payments_workspace` ON `payments` (`workspace_id`,`occurred_at`);--> statement-breakpoint
CREATE INDEX `payments_user` ON `payments` (`user_id`,`occurred_at`);--> statement-breakpoint
CREATE TABLE `subscriptions` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`user_id` text NOT NULL,
	`plan_id` text NOT NULL,
	`status` text NOT NULL,
	`current_end` integer,
	`cancel_at_period_end` integer DEFAULT false NOT NULL,
	`created_at` integer NOT NULL,
	`updated_at` integer NOT NULL,
	`event_at` integer DEFAULT 0 NOT NULL,
	`cancel_owed_since` integer,
	`cancel_attempts` integer DEFAULT 0 NOT NULL,
	`cancel_error` text
);
--> statement-breakpoint
CREATE INDEX `subscriptions_workspace` ON `subscriptions` (`workspace_id`,`created_at`);--> statement-breakpoint
CREATE INDEX `subscriptions_cancel_owed` ON `subscriptions` (`cancel_owed_since`);