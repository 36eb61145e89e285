CREATE TABLE "blob_staging" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"bytes" "bytea" NOT NULL,
	CONSTRAINT "blob_staging_source_id_pk" PRIMARY KEY("source","id")
);
--> statement-breakpoint
CREATE TABLE "blobs" (
	"source" text NOT NULL,
	"id" text NOT NULL,
	"size" bigint NOT NULL,
	"content_type" text NOT NULL,
	"sha256" char(64) NOT NULL,
	"meta" jsonb,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"lease_owner" text,
	"lease_until" timestamp with time zone,
	"object_key" text,
	"last_error" text,
	"uploaded_at" timestamp with time zone,
	CONSTRAINT "blobs_source_id_pk" PRIMARY KEY("source","id"),
	CONSTRAINT "blobs_state_check" CHECK ("blobs"."state" in ('pending', 'uploading', 'uploaded', 'failed'))
);
--> statement-breakpoint
ALTER TABLE "blob_staging" ADD CONSTRAINT "blob_staging_source_id_blobs_source_id_fk" FOREIGN KEY ("source","id") REFERENCES "public"."blobs"("source","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "blobs" ADD CONSTRAINT "blobs_source_id_items_source_id_fk" FOREIGN KEY ("source","id") REFERENCES "public"."items"("source","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "blobs_claim_idx" ON "blobs" USING btree ("next_attempt_at") WHERE "blobs"."state" in ('pending', 'uploading');--> statement-breakpoint
ALTER TABLE "blob_staging" ALTER COLUMN "bytes" SET STORAGE EXTERNAL;
