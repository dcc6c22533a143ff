CREATE TYPE "public"."booking_event" AS ENUM('HELD', 'OFFERED', 'PAID', 'PAYMENT_DECLINED', 'CONFIRMED', 'CANCELLED', 'EXPIRED', 'REFUNDED');--> statement-breakpoint
CREATE TABLE "booking_log" (
	"log_id" bigserial PRIMARY KEY NOT NULL,
	"booking_id" integer NOT NULL,
	"event" "booking_event" NOT NULL,
	"at" timestamp with time zone DEFAULT clock_timestamp() NOT NULL,
	"actor_user_id" integer,
	"actor_role" "user_role",
	"request_id" text,
	"details" jsonb
);
--> statement-breakpoint
ALTER TABLE "booking_log" ADD CONSTRAINT "booking_log_booking_id_bookings_booking_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("booking_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "booking_log_booking_idx" ON "booking_log" USING btree ("booking_id","log_id");