-- The booking log is append-only: rows are inserted by the statements that change bookings,
-- and no one, the application's own role included, may change or remove one. Statement-level
-- triggers refuse UPDATE and DELETE (even of no row) and TRUNCATE.
CREATE FUNCTION booking_log_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'booking_log is append-only: % refused', TG_OP
    USING ERRCODE = 'restrict_violation';
END;
$$;--> statement-breakpoint
CREATE TRIGGER booking_log_append_only
  BEFORE UPDATE OR DELETE ON booking_log
  FOR EACH STATEMENT EXECUTE FUNCTION booking_log_refuse_change();--> statement-breakpoint
CREATE TRIGGER booking_log_no_truncate
  BEFORE TRUNCATE ON booking_log
  FOR EACH STATEMENT EXECUTE FUNCTION booking_log_refuse_change();--> statement-breakpoint
-- Bookings made before the log existed get the history their rows still tell, each entry
-- marked reconstructed: the hold, every charge attempt, the end (cancelled or expired, when
-- the booking was last updated; CONFIRMED for a confirmed one) and the refund. Who acted and
-- in which request is not known (null); a cancelled booking that had been confirmed first
-- shows no CONFIRMED, as no row remembers it.
INSERT INTO booking_log (booking_id, event, at, details)
SELECT booking_id, event::booking_event, at, details || '{"reconstructed": true}'::jsonb
FROM (
  SELECT b.booking_id, 'HELD' AS event, b.created_at AS at, 1 AS step,
    jsonb_build_object('amount_cents', b.amount_cents,
      'seat_ids', (SELECT coalesce(jsonb_agg(bs.seat_id ORDER BY bs.seat_id), '[]'::jsonb)
                   FROM booking_seats bs WHERE bs.booking_id = b.booking_id)) AS details
  FROM bookings b
  UNION ALL
  SELECT p.booking_id, CASE WHEN p.status = 'DECLINED' THEN 'PAYMENT_DECLINED' ELSE 'PAID' END,
    p.created_at, 2,
    jsonb_build_object('amount_cents', p.amount_cents, 'transaction_id', p.transaction_id)
  FROM payments p
  UNION ALL
  SELECT b.booking_id, b.status::text, b.updated_at, 3, '{}'::jsonb
  FROM bookings b WHERE b.status <> 'PENDING'
  UNION ALL
  SELECT p.booking_id, 'REFUNDED', coalesce(p.refunded_at, p.created_at), 4,
    jsonb_build_object('amount_cents', p.amount_cents,
      'transaction_id', p.refund_transaction_id, 'payment_transaction_id', p.transaction_id)
  FROM payments p WHERE p.status = 'REFUNDED'
) AS history
ORDER BY booking_id, step, at;
