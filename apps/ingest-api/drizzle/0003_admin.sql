CREATE TABLE "item_rates" (
	"source" text NOT NULL,
	"minute" timestamp with time zone NOT NULL,
	"items" bigint NOT NULL,
	"bytes" bigint NOT NULL,
	CONSTRAINT "item_rates_source_minute_pk" PRIMARY KEY("source","minute")
);
--> statement-breakpoint
CREATE INDEX "blobs_failed_idx" ON "blobs" USING btree ("source","id") WHERE "blobs"."state" = 'failed';--> statement-breakpoint
CREATE INDEX "items_received_idx" ON "items" USING btree ("received_at","source","id");--> statement-breakpoint
CREATE INDEX "items_source_received_idx" ON "items" USING btree ("source","received_at","id");