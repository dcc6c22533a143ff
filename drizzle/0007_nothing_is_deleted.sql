ALTER TABLE "booking_seats" DROP CONSTRAINT "booking_seats_booking_id_bookings_booking_id_fk";
--> statement-breakpoint
ALTER TABLE "payments" DROP CONSTRAINT "payments_booking_id_bookings_booking_id_fk";
--> statement-breakpoint
ALTER TABLE "seats" DROP CONSTRAINT "seats_venue_id_venues_venue_id_fk";
--> statement-breakpoint
ALTER TABLE "shows" DROP CONSTRAINT "shows_event_id_events_event_id_fk";
--> statement-breakpoint
DROP INDEX "seats_venue_row_number_key";--> statement-breakpoint
ALTER TABLE "seats" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "venues" ADD COLUMN "deleted_at" timestamp with time zone;--> statement-breakpoint
-- NOT VALID: seats deleted before this migration may still be named by old bookings (their
-- row and number are copied in booking_seats); those rows stay as they are, every seat row
-- from now on is kept while a booking names it.
ALTER TABLE "booking_seats" ADD CONSTRAINT "booking_seats_seat_id_seats_seat_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("seat_id") ON DELETE restrict ON UPDATE no action NOT VALID;--> statement-breakpoint
ALTER TABLE "booking_seats" ADD CONSTRAINT "booking_seats_booking_id_bookings_booking_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("booking_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "payments" ADD CONSTRAINT "payments_booking_id_bookings_booking_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("booking_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_venue_id_venues_venue_id_fk" FOREIGN KEY ("venue_id") REFERENCES "public"."venues"("venue_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shows" ADD CONSTRAINT "shows_event_id_events_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("event_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "seats_venue_row_number_key" ON "seats" USING btree ("venue_id","seat_row","seat_number") WHERE "seats"."deleted_at" is null;