-- show_rows.version was kept only for the release before pick_adjacent_seats, which read it
-- during a rolling deploy. No running release reads it now: the trigger that moved it on
-- every pick's hint write goes with it.
DROP TRIGGER "show_rows_writes_move_version" ON "show_rows";--> statement-breakpoint
DROP FUNCTION "show_rows_move_version"();--> statement-breakpoint
ALTER TABLE "show_rows" DROP COLUMN "version";
