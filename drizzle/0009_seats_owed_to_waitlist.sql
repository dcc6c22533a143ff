ALTER TYPE "public"."seat_status" ADD VALUE 'OWED';--> statement-breakpoint
ALTER TABLE "show_seats" DROP CONSTRAINT "show_seats_holder_matches_status";--> statement-breakpoint
ALTER TABLE "show_seats" ADD CONSTRAINT "show_seats_holder_matches_status" CHECK (("show_seats"."status" in ('LOCKED', 'BOOKED')) = ("show_seats"."booking_id" is not null));