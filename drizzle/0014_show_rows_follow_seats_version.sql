-- Every write of a show_rows row moves its version, not only a picker's: seats inserted
-- into a row (added to the venue, or a show moved to another venue) raise its hint through
-- show_rows_follow_inserted_seats. A picker whose snapshot predates that insert, and that
-- locks the row once it committed, must see the version moved and leave the row alone (its
-- view of the seats is out of date) rather than write a hint that hides the new seats.
CREATE FUNCTION show_rows_move_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.version := OLD.version + 1;
  RETURN NEW;
END;
$$;--> statement-breakpoint
CREATE TRIGGER show_rows_writes_move_version
  BEFORE UPDATE ON show_rows FOR EACH ROW
  WHEN (NEW.version = OLD.version)
  EXECUTE FUNCTION show_rows_move_version();
