CREATE INDEX "bookings_user_show_idx" ON "bookings" USING btree ("user_id","show_id");--> statement-breakpoint
-- The same count under the same lock, in PL/pgSQL: a SQL function with two commands is parsed
-- and planned again at every call (about a third of a hold's cost in PostgreSQL), while
-- PL/pgSQL keeps its plans for the session. It stays VOLATILE, so each of its commands still
-- takes a fresh snapshot (READ COMMITTED): the count runs after the lock was granted and sees
-- every hold of the same user and show that held the lock before.
CREATE OR REPLACE FUNCTION seats_held_by_user(for_user integer, of_show integer) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  PERFORM pg_advisory_xact_lock((for_user::bigint << 32) | of_show::bigint);
  RETURN (
    SELECT count(*)::integer
    FROM bookings b JOIN booking_seats bs ON bs.booking_id = b.booking_id
    WHERE b.user_id = for_user AND b.show_id = of_show
      AND (b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.expires_at > now()))
  );
END;
$$;
