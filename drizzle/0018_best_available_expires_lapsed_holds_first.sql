-- Best-available picks treat the seats of holds that ran out as the free seats they are (the
-- seat map and an exact hold do): pick_adjacent_seats first asks for the show's holds that ran
-- out, by the index below, and answers them (as no_row_fits with lapsed_booking_ids, which
-- the release before this one also expires and then picks again) before it picks. The
-- function's columns are unchanged, so that release runs beside this one.
--
-- pick_adjacent_seats as migration 0016 made it, but for those holds: it now asks for them
-- at the start, in the same command as the ranked check and the noted rows.
DROP INDEX "bookings_show_status_idx";--> statement-breakpoint
CREATE INDEX "bookings_show_status_expiry_idx" ON "bookings" USING btree ("show_id","status","expires_at");--> statement-breakpoint
CREATE OR REPLACE FUNCTION pick_adjacent_seats(of_show integer, wanted integer)
RETURNS TABLE (
  outcome text, seat_row varchar, seat_ids integer[], seat_numbers integer[],
  longest_if_held integer, longest_if_not integer,
  available_seats integer, largest_block integer, lapsed_booking_ids integer[]
)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  ranked_layout boolean;
  noted varchar[];
  tried varchar[] := '{}';
  candidate varchar;
  first_number integer;
  block integer[];
  locked integer;
  -- Looks for a free row this many times, a millisecond apart, before answering 'raced'.
  rounds CONSTANT integer := 20;
BEGIN
  SELECT
    EXISTS (SELECT 1 FROM show_rows r WHERE r.show_id = of_show AND r.ranked),
    (SELECT array_agg(h.booking_id) FROM (SELECT b.booking_id FROM bookings b
      WHERE b.show_id = of_show AND b.status = 'PENDING' AND b.expires_at <= now()
      ORDER BY b.expires_at LIMIT 50) h),
    -- Distinct: a seat released many times has as many notes.
    (SELECT coalesce(array_agg(DISTINCT s.seat_row), '{}')
      FROM show_row_releases rr JOIN seats s ON s.seat_id = rr.seat_id
      WHERE rr.show_id = of_show)
  INTO ranked_layout, lapsed_booking_ids, noted;
  IF ranked_layout THEN
    outcome := 'every_seat';
    lapsed_booking_ids := NULL;
    RETURN NEXT;
    RETURN;
  END IF;
  -- Seats of holds that ran out are free (the seat map shows them so) but still LOCKED: those
  -- holds must expire before a pick can see their seats.
  IF lapsed_booking_ids IS NOT NULL THEN
    outcome := 'no_row_fits';
    RETURN NEXT;
    RETURN;
  END IF;
  FOR round IN 1..rounds LOOP
    LOOP
      SELECT r.seat_row INTO candidate FROM show_rows r
      WHERE r.show_id = of_show AND r.seat_row <> ALL (tried)
        AND (r.largest_free_hint >= wanted OR r.seat_row = ANY (noted))
      ORDER BY length(r.seat_row), r.seat_row
      LIMIT 1
      FOR UPDATE SKIP LOCKED;
      EXIT WHEN NOT FOUND;
      tried := tried || candidate;

      WITH forgotten AS (
        DELETE FROM show_row_releases rr USING seats s
        WHERE rr.show_id = of_show AND s.seat_id = rr.seat_id AND s.seat_row = candidate
      ), row_seats AS (
        -- The show's venue as this snapshot sees it, with the row: a show moved to another
        -- venue since this call began has that venue's rows, which it may have locked now.
        SELECT s.seat_id, s.seat_number
        FROM seats s
        WHERE s.venue_id = (SELECT sh.venue_id FROM shows sh WHERE sh.show_id = of_show)
          AND s.seat_row = candidate AND s.deleted_at IS NULL
      ), id_range AS (
        SELECT min(r.seat_id) AS low, max(r.seat_id) AS high,
          max(r.seat_id) - min(r.seat_id) < 2 * count(*) AS tight
        FROM row_seats r
      ), statuses AS (
        -- The row's show_seats in one range of the primary key when the row's seat ids are
        -- about consecutive (seats created together; others in the range are dropped), else
        -- one by one (a row extended later, or a layout sent column by column).
        SELECT ss.seat_id, ss.status FROM id_range b
        JOIN show_seats ss ON ss.show_id = of_show AND ss.seat_id BETWEEN b.low AND b.high
        WHERE b.tight
        UNION ALL
        SELECT ss.seat_id, ss.status FROM id_range b, row_seats rs
        CROSS JOIN LATERAL (SELECT ss.seat_id, ss.status FROM show_seats ss
          WHERE ss.show_id = of_show AND ss.seat_id = rs.seat_id OFFSET 0) ss
        WHERE NOT b.tight
      ), in_show AS (
        SELECT rs.seat_id, rs.seat_number, st.status = 'AVAILABLE' AS free,
          min(rs.seat_number) OVER () + max(rs.seat_number) OVER () AS ends
        FROM statuses st JOIN row_seats rs ON rs.seat_id = st.seat_id
      ), placed AS (
        SELECT i.*, row_number() OVER (ORDER BY abs(2 * i.seat_number - i.ends), i.seat_number) AS place
        FROM in_show i
      ), free AS (
        SELECT p.seat_id, p.seat_number, p.place,
          p.seat_number - row_number() OVER (ORDER BY p.seat_number) AS run
        FROM placed p WHERE p.free
      ), runs AS (
        SELECT f.run, min(f.seat_number) AS low, max(f.seat_number) AS high, count(*)::integer AS length
        FROM free f GROUP BY f.run
      ), windows AS (
        SELECT f.seat_number AS first, f.place AS first_place,
          count(*) OVER block AS size, sum(f.place) OVER block AS place_sum
        FROM free f
        WINDOW block AS (PARTITION BY f.run ORDER BY f.seat_number
          ROWS BETWEEN CURRENT ROW AND wanted - 1 FOLLOWING)
      ), best AS (
        SELECT w.first FROM windows w WHERE w.size = wanted
        ORDER BY w.place_sum, w.first_place LIMIT 1
      )
      SELECT b.first,
        (SELECT array_agg(f.seat_id ORDER BY f.seat_id) FROM free f
          WHERE f.seat_number BETWEEN b.first AND b.first + wanted - 1),
        (SELECT array_agg(f.seat_number ORDER BY f.seat_id) FROM free f
          WHERE f.seat_number BETWEEN b.first AND b.first + wanted - 1),
        (SELECT coalesce(max(CASE WHEN b.first BETWEEN u.low AND u.high
            THEN greatest(b.first - u.low, u.high - b.first - wanted + 1) ELSE u.length END), 0)
          FROM runs u),
        (SELECT coalesce(max(u.length), 0) FROM runs u)
      INTO first_number, block, seat_numbers, longest_if_held, longest_if_not
      FROM (SELECT 1) one LEFT JOIN best b ON true;

      IF first_number IS NOT NULL THEN
        SELECT count(*) INTO locked FROM (
          SELECT 1 FROM show_seats ss
          WHERE ss.show_id = of_show AND ss.seat_id = ANY (block) AND ss.status = 'AVAILABLE'
          FOR UPDATE SKIP LOCKED
        ) l;
        IF locked = wanted THEN
          outcome := 'picked';
          seat_row := candidate;
          seat_ids := block;
          RETURN NEXT;
          RETURN;
        END IF;
      END IF;
      UPDATE show_rows r SET largest_free_hint = longest_if_not
      WHERE r.show_id = of_show AND r.seat_row = candidate;
    END LOOP;

    seat_row := NULL;
    seat_ids := NULL;
    seat_numbers := NULL;
    longest_if_held := NULL;
    longest_if_not := NULL;
    IF NOT EXISTS (
        SELECT 1 FROM show_rows r
        WHERE r.show_id = of_show AND r.seat_row <> ALL (tried)
          AND (r.largest_free_hint >= wanted OR r.seat_row = ANY (noted))) THEN
      -- Why, as a refusal must say it, seen after that answer: the show's AVAILABLE seats and
      -- their longest run, in one pass over the show's seat rows by primary key; only the
      -- AVAILABLE ones are then looked up in `seats`, one by one (when no row fits, few seats
      -- are free). No hold can have run out since the start: now() is the transaction's.
      WITH seat_states AS (
        SELECT count(*) FILTER (WHERE ss.status = 'AVAILABLE')::integer AS available,
          array_agg(ss.seat_id) FILTER (WHERE ss.status = 'AVAILABLE') AS free_ids
        FROM show_seats ss WHERE ss.show_id = of_show
      ), free AS (
        SELECT s.seat_row AS in_row,
          s.seat_number - row_number() OVER (PARTITION BY s.seat_row ORDER BY s.seat_number) AS run
        FROM seat_states st, unnest(st.free_ids) AS f(id) CROSS JOIN LATERAL (
          SELECT s.seat_row, s.seat_number FROM seats s WHERE s.seat_id = f.id OFFSET 0
        ) s
      )
      SELECT st.available,
        (SELECT coalesce(max(r.length), 0)::integer
          FROM (SELECT count(*) AS length FROM free GROUP BY free.in_row, free.run) r)
      INTO available_seats, largest_block
      FROM seat_states st;
      outcome := 'no_row_fits';
      RETURN NEXT;
      RETURN;
    END IF;
    -- Other pickers hold every row that may fit; they commit within a pick's time. A picker
    -- that locked rows itself (without a block it could take) does not wait: its uncommitted
    -- hints keep those rows from the others until it ends.
    EXIT WHEN cardinality(tried) > 0;
    PERFORM pg_sleep(0.001);
  END LOOP;
  outcome := 'raced';
  RETURN NEXT;
END;
$$;
