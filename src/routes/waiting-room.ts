import { createRoute } from "@hono/zod-openapi";
import { createRouter, errorResponses, idParam, jsonResponse, z } from "../lib/openapi";
import { requireUser } from "../middleware/auth";

const status = createRoute({
  method: "get",
  path: "/{show_id}",
  tags: ["Bookings"],
  summary: "The caller's place in the show's waiting room",
  description:
    "`open`: not in line; a hold attempt is admitted at once or queued. `queued`: `position` (1 = next) and a pessimistic `estimated_wait_seconds`; polling keeps the place, stopping for QUEUE_ABANDON_SECONDS loses it. `admitted`: holds are allowed until `admitted_until` (extended by each hold attempt).",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  request: { params: z.object({ show_id: idParam("show_id") }) },
  responses: {
    200: jsonResponse(
      z.object({
        status: z.enum(["open", "queued", "admitted"]),
        position: z.number().int().optional(),
        estimated_wait_seconds: z.number().int().optional(),
        admitted_until: z.string().optional(),
        sales_open_at: z.string().optional().openapi({
          description: "Present while sales have not opened: hold attempts join the pre-queue",
        }),
      }),
      "The caller's state",
    ),
    ...errorResponses(400, 401, 404),
  },
});

export const waitingRoomRoutes = createRouter().openapi(status, async (c) => {
  const showId = c.req.valid("param").show_id;
  const services = c.get("services");
  const { salesOpenAt } = await services.bookings.timesOf(showId);
  return c.json(await services.waitingRoom.status(showId, c.get("user").user_id, salesOpenAt), 200);
});
