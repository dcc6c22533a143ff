import { createRoute } from "@hono/zod-openapi";
import {
  createRouter,
  jsonResponse,
  paginationEnvelope,
  paginationQuery,
  z,
} from "../../lib/openapi";
import { requireUser } from "../../middleware/auth";
import { BookingSchema, BookingStatusSchema } from "./schemas";

const myBookings = createRoute({
  method: "get",
  path: "/bookings",
  operationId: "listMyBookings",
  tags: ["Bookings"],
  summary: "The caller's bookings, newest first",
  description:
    "Each with its show (event and venue) and seats, also after cancellation or expiry. A hold that ran out reads as EXPIRED. Filter with `status`.",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  request: { query: paginationQuery.extend({ status: BookingStatusSchema.optional() }) },
  responses: {
    200: jsonResponse(
      z.object({ bookings: z.array(BookingSchema), ...paginationEnvelope }),
      "A page of bookings",
    ),
  },
});

export const userRoutes = createRouter().openapi(myBookings, async (c) => {
  const query = c.req.valid("query");
  const page = await c
    .get("services")
    .bookingViews.list({ ...query, userId: c.get("user").user_id });
  return c.json(page, 200);
});
