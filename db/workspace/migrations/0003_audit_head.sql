CREATE TABLE `audit_head` (
	`id` integer PRIMARY KEY NOT NULL,
	`seq` integer NOT NULL,
	`hash` text NOT NULL,
	CONSTRAINT "audit_head_one_row" CHECK("audit_head"."id" = 1)
);
--> statement-breakpoint
-- Hand-written backfill: a chain written before this table existed gets its newest row as its
-- head (or seq 0 and the genesis hash when it is empty), so an upgraded instance still verifies.
INSERT INTO `audit_head` (`id`, `seq`, `hash`)
SELECT 1, coalesce(max(`seq`), 0), coalesce((SELECT `hash` FROM `audit_log` ORDER BY `seq` DESC LIMIT 1), '0000000000000000000000000000000000000000000000000000000000000000')
FROM `audit_log`;
