CREATE TYPE "public"."booking_status" AS ENUM('PENDING', 'CONFIRMED', 'CANCELLED', 'EXPIRED');--> statement-breakpoint
CREATE TYPE "public"."seat_status" AS ENUM('AVAILABLE', 'LOCKED', 'BOOKED');--> statement-breakpoint
CREATE TYPE "public"."user_role" AS ENUM('user', 'admin');--> statement-breakpoint
CREATE TABLE "booking_seats" (
	"booking_id" integer NOT NULL,
	"seat_id" integer NOT NULL,
	"seat_row" varchar(10) NOT NULL,
	"seat_number" integer NOT NULL,
	CONSTRAINT "booking_seats_booking_id_seat_id_pk" PRIMARY KEY("booking_id","seat_id")
);
--> statement-breakpoint
CREATE TABLE "bookings" (
	"booking_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "bookings_booking_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"user_id" integer NOT NULL,
	"show_id" integer NOT NULL,
	"status" "booking_status" DEFAULT 'PENDING' NOT NULL,
	"amount_cents" integer NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "bookings_amount_non_negative" CHECK ("bookings"."amount_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "events" (
	"event_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "events_event_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"title" varchar(200) NOT NULL,
	"description" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "seats" (
	"seat_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "seats_seat_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"venue_id" integer NOT NULL,
	"seat_row" varchar(10) NOT NULL,
	"seat_number" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "show_seats" (
	"show_id" integer NOT NULL,
	"seat_id" integer NOT NULL,
	"status" "seat_status" DEFAULT 'AVAILABLE' NOT NULL,
	"booking_id" integer,
	"locked_until" timestamp with time zone,
	CONSTRAINT "show_seats_show_id_seat_id_pk" PRIMARY KEY("show_id","seat_id"),
	CONSTRAINT "show_seats_holder_matches_status" CHECK (("show_seats"."status" = 'AVAILABLE') = ("show_seats"."booking_id" is null))
);
--> statement-breakpoint
CREATE TABLE "shows" (
	"show_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "shows_show_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"event_id" integer NOT NULL,
	"venue_id" integer NOT NULL,
	"start_time" timestamp with time zone NOT NULL,
	"end_time" timestamp with time zone NOT NULL,
	"price_cents" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "shows_time_order" CHECK ("shows"."end_time" > "shows"."start_time"),
	CONSTRAINT "shows_price_non_negative" CHECK ("shows"."price_cents" >= 0)
);
--> statement-breakpoint
CREATE TABLE "users" (
	"user_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "users_user_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"email" varchar(254) NOT NULL,
	"name" varchar(100),
	"password_hash" text NOT NULL,
	"role" "user_role" DEFAULT 'user' NOT NULL,
	"token_version" integer DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "users_email_lower" CHECK ("users"."email" = lower("users"."email"))
);
--> statement-breakpoint
CREATE TABLE "venues" (
	"venue_id" integer PRIMARY KEY GENERATED ALWAYS AS IDENTITY (sequence name "venues_venue_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 2147483647 START WITH 1 CACHE 1),
	"venue_name" varchar(200) NOT NULL,
	"address" varchar(500) NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "booking_seats" ADD CONSTRAINT "booking_seats_booking_id_bookings_booking_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("booking_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_user_id_users_user_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("user_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "bookings" ADD CONSTRAINT "bookings_show_id_shows_show_id_fk" FOREIGN KEY ("show_id") REFERENCES "public"."shows"("show_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "seats" ADD CONSTRAINT "seats_venue_id_venues_venue_id_fk" FOREIGN KEY ("venue_id") REFERENCES "public"."venues"("venue_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "show_seats" ADD CONSTRAINT "show_seats_show_id_shows_show_id_fk" FOREIGN KEY ("show_id") REFERENCES "public"."shows"("show_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "show_seats" ADD CONSTRAINT "show_seats_seat_id_seats_seat_id_fk" FOREIGN KEY ("seat_id") REFERENCES "public"."seats"("seat_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "show_seats" ADD CONSTRAINT "show_seats_booking_id_bookings_booking_id_fk" FOREIGN KEY ("booking_id") REFERENCES "public"."bookings"("booking_id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shows" ADD CONSTRAINT "shows_event_id_events_event_id_fk" FOREIGN KEY ("event_id") REFERENCES "public"."events"("event_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "shows" ADD CONSTRAINT "shows_venue_id_venues_venue_id_fk" FOREIGN KEY ("venue_id") REFERENCES "public"."venues"("venue_id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "bookings_user_created_idx" ON "bookings" USING btree ("user_id","created_at" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "bookings_show_status_idx" ON "bookings" USING btree ("show_id","status");--> statement-breakpoint
CREATE INDEX "bookings_pending_expiry_idx" ON "bookings" USING btree ("expires_at") WHERE "bookings"."status" = 'PENDING';--> statement-breakpoint
CREATE UNIQUE INDEX "seats_venue_row_number_key" ON "seats" USING btree ("venue_id","seat_row","seat_number");--> statement-breakpoint
CREATE INDEX "show_seats_booking_idx" ON "show_seats" USING btree ("booking_id") WHERE "show_seats"."booking_id" is not null;--> statement-breakpoint
CREATE INDEX "show_seats_seat_idx" ON "show_seats" USING btree ("seat_id");--> statement-breakpoint
CREATE INDEX "shows_start_time_idx" ON "shows" USING btree ("start_time");--> statement-breakpoint
CREATE INDEX "shows_event_id_idx" ON "shows" USING btree ("event_id");--> statement-breakpoint
CREATE INDEX "shows_venue_id_idx" ON "shows" USING btree ("venue_id");--> statement-breakpoint
CREATE UNIQUE INDEX "users_email_key" ON "users" USING btree ("email");