ALTER TABLE "api_keys" ADD COLUMN "origin" text DEFAULT 'cli' NOT NULL;--> statement-breakpoint
ALTER TABLE "api_keys" ADD COLUMN "revoked_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_origin_check" CHECK ("api_keys"."origin" in ('config', 'cli'));--> statement-breakpoint
-- Keys stored before this migration have no recorded origin; they stay valid like sources:create keys,
-- except the development key, recognised by its hash (SHA-256 of 'dev-key'), which is a config key.
UPDATE "api_keys" SET "origin" = 'config' WHERE "key_hash" = '7e9f8fd111802be56c379d597842e29b2cebd35ff2133d431a49fa556a18704e';
