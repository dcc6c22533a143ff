import { createRoute } from "@hono/zod-openapi";
import { createRouter, errorResponses, idParam, jsonResponse, z } from "../../lib/openapi";
import { timestamp } from "../../lib/shapes";
import { requireUser } from "../../middleware/auth";

const status = createRoute({
  method: "get",
  path: "/{show_id}",
  operationId: "getWaitingRoomPlace",
  tags: ["Bookings"],
  summary: "The caller's place in the show's waiting room",
  description:
    "`open`: not in line (or the place was lost); a hold attempt is admitted at once or queued at the back. `queued`: `position` (1 = next) and `estimated_wait_seconds`; polling keeps the place, and a user whose last poll is QUEUE_ABANDON_SECONDS old has lost it, even if nobody else called meanwhile. `estimated_wait_seconds` is an estimate, not a promise: `position` divided by the pace at which this show's line admitted people over the last ADMISSION_TTL_SECONDS (from the first to the last of those admissions). Places free up in batches as sessions end, so the real wait differs by about one session either way. Until the line has moved twice in that span it is the wait if every admitted user stays the whole admission: ⌈position / WAITING_ROOM_THRESHOLD⌉ × ADMISSION_TTL_SECONDS. `admitted`: holds are allowed until `admitted_until`, ADMISSION_TTL_SECONDS (600: ten minutes to choose and hold seats) after admission. Only progress renews it for another ADMISSION_TTL_SECONDS: a hold that succeeds or a payment. Refused hold attempts renew nothing; a confirmed or cancelled booking ends the admission.",
  security: [{ bearerAuth: [] }],
  middleware: [requireUser] as const,
  request: { params: z.object({ show_id: idParam("show_id") }) },
  responses: {
    200: jsonResponse(
      z.object({
        status: z.enum(["open", "queued", "admitted"]),
        position: z.number().int().optional(),
        estimated_wait_seconds: z.number().int().optional(),
        admitted_until: timestamp().optional(),
        sales_open_at: timestamp().optional().openapi({
          description: "Present while sales have not opened: hold attempts join the pre-queue",
        }),
      }),
      "The caller's state",
    ),
    ...errorResponses("NOT_FOUND"),
  },
});

export const waitingRoomRoutes = createRouter().openapi(status, async (c) => {
  const showId = c.req.valid("param").show_id;
  const services = c.get("services");
  const { salesOpenAt } = await services.bookings.timesOf(showId);
  return c.json(await services.waitingRoom.status(showId, c.get("user").user_id, salesOpenAt), 200);
});
