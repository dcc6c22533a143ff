import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env";

/**
 * Puts the hold route behind the show's waiting room. Reads show_id from the body; a body the
 * route's validator will refuse anyway is let through to get its 400.
 */
export const waitingRoomGate = createMiddleware<AppEnv>(async (c, next) => {
  const body: unknown = await c.req.json().catch(() => undefined);
  const showId = (body as { show_id?: unknown } | undefined)?.show_id;
  if (typeof showId === "number" && Number.isInteger(showId) && showId > 0) {
    await c.get("services").waitingRoom.enter(showId, c.get("user").user_id);
  }
  await next();
});
