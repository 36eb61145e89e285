-- Staged bytes become chunks: a row staged before this migration holds a whole blob and becomes its chunk 0.
ALTER TABLE "blob_staging" ADD COLUMN "seq" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "blob_staging" ALTER COLUMN "seq" DROP DEFAULT;--> statement-breakpoint
ALTER TABLE "blob_staging" DROP CONSTRAINT "blob_staging_source_id_pk";--> statement-breakpoint
ALTER TABLE "blob_staging" ADD CONSTRAINT "blob_staging_source_id_seq_pk" PRIMARY KEY("source","id","seq");
