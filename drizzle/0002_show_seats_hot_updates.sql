DROP INDEX "show_seats_booking_idx";--> statement-breakpoint
-- Room on every page for HOT updates of seat status (see the comment on show_seats).
ALTER TABLE "show_seats" SET (fillfactor = 80);
