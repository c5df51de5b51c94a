CREATE TABLE `access_epoch` (
	`id` integer PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
--> statement-breakpoint
-- Hand-written: the one row the counter lives in.
INSERT INTO `access_epoch` (`id`, `value`) VALUES (1, 0);
