ALTER TABLE "bookings" DROP CONSTRAINT "bookings_show_id_shows_show_id_fk";
--> statement-breakpoint
ALTER TABLE "events" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "shows" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_show_id_shows_show_id_fk" FOREIGN KEY ("show_id") REFERENCES "public"."shows"("show_id") ON DELETE restrict ON UPDATE no action;