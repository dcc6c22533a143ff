import { notifications, waitlistEntries } from "../../db/schema";
import { bodyId, createSelectSchema, idColumns, timestamp, z } from "../../lib/shapes";

/** A waitlist entry and a notification as the API shows them, from their tables. */

/** Seats one entry waits for: the table's check (1 to 10), and what a join may ask. */
export const seatsWanted = () => z.number().int().min(1).max(10);

const entry = createSelectSchema(waitlistEntries, {
  ...idColumns("waitlist_entry_id", "show_id"),
  seats_wanted: seatsWanted(),
  created_at: timestamp(),
}).shape;

export const WaitlistEntrySchema = z
  .object({
    waitlist_entry_id: entry.waitlist_entry_id,
    show_id: entry.show_id,
    seats_wanted: entry.seats_wanted,
    status: entry.status,
    position: z
      .number()
      .int()
      .nullable()
      .openapi({ description: "1-based place in the line while WAITING, else null" }),
    booking_id: bodyId()
      .nullable()
      .openapi({ description: "The offer's PENDING booking once OFFERED" }),
    created_at: entry.created_at,
  })
  .openapi("WaitlistEntry");
export type WaitlistEntryView = z.infer<typeof WaitlistEntrySchema>;
export type WaitlistStatus = WaitlistEntryView["status"];

export const NotificationSchema = createSelectSchema(notifications, {
  ...idColumns("notification_id"),
  kind: (kind) => kind.openapi({ example: "WAITLIST_OFFER" }),
  payload: z.record(z.string(), z.unknown()).openapi({
    description:
      "For WAITLIST_OFFER: `{booking_id, show_id, seat_ids, expires_at}` — the seats are held for you as a PENDING booking; pay and confirm it before `expires_at`. For WAITLIST_SEAT_LIMIT: `{show_id, seats_wanted, remaining}` — your entry was closed because the seats you wait for would take you past the per-show seat limit.",
  }),
  created_at: timestamp(),
  read_at: timestamp().nullable(),
})
  .omit({ user_id: true })
  .openapi("Notification");
export type NotificationView = z.infer<typeof NotificationSchema>;
