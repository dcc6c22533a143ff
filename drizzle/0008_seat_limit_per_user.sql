-- Seats a user holds or owns for one show: seats of their PENDING bookings whose hold has not
-- run out, and of their CONFIRMED ones. The hold statement calls it to enforce
-- MAX_SEATS_PER_USER_PER_SHOW.
--
-- It first takes a transaction-scoped advisory lock on (user, show), so holds of one user for
-- one show pass here one at a time; the lock is held until the calling transaction ends.
-- Being VOLATILE, each of its commands takes a fresh snapshot (READ COMMITTED): the count runs
-- after the lock was granted and therefore sees every hold of the same user and show that
-- held the lock before (it committed or rolled back before releasing it). Two parallel holds
-- can thus never both count without the other.
CREATE FUNCTION seats_held_by_user(for_user integer, of_show integer) RETURNS integer
LANGUAGE sql VOLATILE AS $$
  SELECT pg_advisory_xact_lock((for_user::bigint << 32) | of_show::bigint);
  SELECT count(*)::integer
  FROM bookings b JOIN booking_seats bs ON bs.booking_id = b.booking_id
  WHERE b.user_id = for_user AND b.show_id = of_show
    AND (b.status = 'CONFIRMED' OR (b.status = 'PENDING' AND b.expires_at > now()));
$$;
