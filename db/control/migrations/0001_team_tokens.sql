CREATE TABLE `team_tokens` (
	`id` text PRIMARY KEY NOT NULL,
	`workspace_id` text NOT NULL,
	`name` text NOT NULL,
	`token_hash` text NOT NULL,
	`role` text,
	`scopes` text NOT NULL,
	`issuer_type` text NOT NULL,
	`issued_by` text,
	`created_at` integer NOT NULL,
	`expires_at` integer NOT NULL,
	`last_used_at` integer,
	`revoked_at` integer,
	FOREIGN KEY (`workspace_id`) REFERENCES `workspaces`(`id`) ON UPDATE no action ON DELETE cascade
);
--> statement-breakpoint
CREATE UNIQUE INDEX `team_tokens_hash` ON `team_tokens` (`token_hash`);--> statement-breakpoint
CREATE INDEX `team_tokens_workspace` ON `team_tokens` (`workspace_id`);