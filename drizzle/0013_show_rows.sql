CREATE TABLE "show_row_releases" (
	"show_id" integer NOT NULL,
	"seat_id" integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE "show_rows" (
	"show_id" integer NOT NULL,
	"seat_row" varchar(10) NOT NULL,
	"largest_free_hint" integer NOT NULL,
	"ranked" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "show_rows_show_id_seat_row_pk" PRIMARY KEY("show_id","seat_row")
);
--> statement-breakpoint
-- Every best-available pick updates a row of its show here: room on each page keeps the
-- updates HOT (no index touched, no page added during a sale).
ALTER TABLE "show_rows" SET (fillfactor = 10);--> statement-breakpoint
ALTER TABLE "show_rows" ADD CONSTRAINT "show_rows_show_id_shows_show_id_fk" FOREIGN KEY ("show_id") REFERENCES "public"."shows"("show_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "show_row_releases_show_idx" ON "show_row_releases" USING btree ("show_id");--> statement-breakpoint
-- show_rows follows show_seats. Inserting a show's seat rows (a show created, seats added to
-- its venue's layout, a show moved to another venue) creates the (show, row) rows they fall
-- in, or raises an existing row's hint: it is an upper bound of the row's longest run of
-- AVAILABLE seats, and pickers lower it to the truth once they have read the row.
CREATE FUNCTION show_rows_follow_inserted_seats() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO show_rows (show_id, seat_row, largest_free_hint, ranked)
  SELECT n.show_id, s.seat_row, 2147483647, bool_or(s.rank IS NOT NULL)
  FROM inserted_seats n JOIN seats s ON s.seat_id = n.seat_id
  GROUP BY n.show_id, s.seat_row
  ORDER BY n.show_id, s.seat_row
  ON CONFLICT (show_id, seat_row) DO UPDATE
    SET largest_free_hint = excluded.largest_free_hint,
      ranked = show_rows.ranked OR excluded.ranked;
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER show_seats_rows_follow
  AFTER INSERT ON show_seats REFERENCING NEW TABLE AS inserted_seats
  FOR EACH STATEMENT EXECUTE FUNCTION show_rows_follow_inserted_seats();--> statement-breakpoint
-- A seat that becomes AVAILABLE again (cancel, expiry, a lapsed offer, owed seats returned to
-- sale) is noted for the picker that next reads its row. An insert, not an update of
-- show_rows: a release never waits for a picker's row lock, so no lock cycle can form
-- between releases and picks. Holds (AVAILABLE to LOCKED) do not fire it.
CREATE FUNCTION show_seats_note_release() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO show_row_releases (show_id, seat_id) VALUES (NEW.show_id, NEW.seat_id);
  RETURN NULL;
END;
$$;--> statement-breakpoint
CREATE TRIGGER show_seats_released
  AFTER UPDATE OF status ON show_seats FOR EACH ROW
  WHEN (NEW.status = 'AVAILABLE' AND OLD.status <> 'AVAILABLE')
  EXECUTE FUNCTION show_seats_note_release();--> statement-breakpoint
-- Shows that exist already: every row may hold a block until a picker has read it.
INSERT INTO show_rows (show_id, seat_row, largest_free_hint, ranked)
SELECT ss.show_id, s.seat_row, 2147483647, bool_or(s.rank IS NOT NULL)
FROM show_seats ss JOIN seats s ON s.seat_id = ss.seat_id
GROUP BY ss.show_id, s.seat_row;
