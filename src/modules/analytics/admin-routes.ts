import { createRouter, jsonResponse, z } from "../../lib/openapi";
import { timestampInput } from "../../lib/shapes";
import { adminRoute } from "../../middleware/admin-route";
import { AnalyticsSchema } from "./schemas";
import { DEFAULT_RANGE_DAYS, MAX_RANGE_DAYS } from "./service";

const analytics = adminRoute({
  method: "get",
  path: "/",
  operationId: "getAnalytics",
  summary: "Booking analytics",
  description: [
    `Bookings created from \`from\` (included) to \`to\` (excluded), so consecutive ranges never count a booking twice; \`to\` defaults to now, \`from\` to ${DEFAULT_RANGE_DAYS} days before \`to\`; \`from\` after \`to\` or a range over ${MAX_RANGE_DAYS} days → 400. Both are read to the millisecond (digits past it are dropped).`,
    "A PENDING hold whose time ran out counts as EXPIRED. Seats sold and revenue count CONFIRMED bookings only; revenue is price × seats (the booking amount), a number with two decimals.",
    "`most_booked_events`: the top 10 events by seats sold. `cancellation_rates`: per show and per event with bookings in the range, `rate` = cancelled / bookings rounded to 4 decimals.",
    "`daily_booking_stats`: one entry per UTC day the range touches (dates `YYYY-MM-DD`), zero-filled, oldest first.",
    "`capacity_utilization`: the seats' state now, for every show, not deleted (a deleted show has no seats left), that had not ended at `from` or had a booking in the range: `booked` (BOOKED), `held` (LOCKED by a hold that has not lapsed), `free` (the rest), `utilization_percent` = booked / total × 100 rounded to 2 decimals.",
  ].join("\n\n"),
  request: {
    query: z.object({
      from: timestampInput.optional(),
      to: timestampInput.optional(),
    }),
  },
  responses: {
    200: jsonResponse(AnalyticsSchema, "The report"),
  },
});

export const adminAnalyticsRoutes = createRouter().openapi(analytics, async (c) => {
  const report = await c.get("services").analytics.report(c.req.valid("query"));
  return c.json(report, 200);
});
