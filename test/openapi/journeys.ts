/**
 * A buyer's and an admin's journey written against the client generated from the live OpenAPI
 * document (openapi-typescript + openapi-fetch). test/openapi-document.test.ts type-checks this
 * file with no casts: a route whose document drifts from what clients need stops compiling.
 */
import type createClient from "openapi-fetch";
import type { paths } from "./generated/evently-api";

type Client = ReturnType<typeof createClient<paths>>;

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

export async function buyerJourney(client: Client, email: string): Promise<number | undefined> {
  const registered = await client.POST("/api/v1/auth/register", {
    body: { email, password: "a long enough password", name: "Buyer" },
  });
  if (registered.error) {
    // EMAIL_TAKEN is one of the codes the document lists for this route.
    if (registered.error.code === "EMAIL_TAKEN") return undefined;
    throw new Error(registered.error.message);
  }
  const headers = bearer(registered.data.token);

  const page = await client.GET("/api/v1/shows", { params: { query: { page: 1, limit: 20 } } });
  const show = page.data?.shows.find((candidate) => candidate.available_seats > 1);
  if (!show) return undefined;

  const map = await client.GET("/api/v1/shows/{show_id}/seats", {
    params: { path: { show_id: show.show_id } },
  });
  const etag = map.response.headers.get("ETag") ?? undefined;
  const free = (map.data?.seats ?? []).filter((seat) => seat.status === "AVAILABLE");
  await client.GET("/api/v1/shows/{show_id}/seats", {
    params: { path: { show_id: show.show_id }, header: { "if-none-match": etag } },
  });

  const hold = await client.POST("/api/v1/bookings/lock", {
    headers,
    params: { header: { "idempotency-key": `hold-${email}` } },
    body: { show_id: show.show_id, seat_ids: free.slice(0, 2).map((seat) => seat.seat_id) },
  });
  if (hold.error) {
    switch (hold.error.code) {
      case "SEAT_UNAVAILABLE":
        return hold.error.details.failed_seats.length;
      case "SEAT_LIMIT":
        return hold.error.details.remaining;
      case "WAITING_ROOM":
        return hold.error.details.estimated_wait_seconds;
      case "SALES_NOT_OPEN":
        return new Date(hold.error.details.sales_open_at).getTime();
      default:
        throw new Error(`${hold.error.code}: ${hold.error.message}`);
    }
  }
  // Timestamps are typed strings in date-time format.
  if (new Date(hold.data.expires_at) > new Date(show.start_time)) return undefined;

  const payment = await client.POST("/api/v1/bookings/payments/simulate", {
    headers,
    body: { booking_id: hold.data.booking_id, amount: hold.data.amount },
  });
  if (payment.error?.code === "PAYMENT_FAILED") return undefined;
  if (payment.error) throw new Error(payment.error.message);

  const confirmed = await client.POST("/api/v1/bookings/{booking_id}/confirm", {
    headers,
    params: { path: { booking_id: hold.data.booking_id } },
    body: {},
  });
  if (confirmed.error?.code === "HOLD_EXPIRED") return undefined;
  const seats: number = confirmed.data?.confirmed_seats.length ?? 0;

  const booking = await client.GET("/api/v1/bookings/{booking_id}", {
    headers,
    params: { path: { booking_id: hold.data.booking_id } },
  });
  const status: "PENDING" | "CONFIRMED" | "CANCELLED" | "EXPIRED" | undefined =
    booking.data?.booking.status;

  const cancelled = await client.POST("/api/v1/bookings/{booking_id}/cancel", {
    headers,
    params: { path: { booking_id: hold.data.booking_id } },
  });
  const refunded: number | undefined = cancelled.data?.refund?.amount;

  const mine = await client.GET("/api/v1/user/bookings", { headers });
  return status === "CANCELLED" ? refunded : seats + (mine.data?.bookings.length ?? 0);
}

export async function adminJourney(client: Client, token: string): Promise<number> {
  const headers = bearer(token);
  const venue = await client.POST("/api/v1/admin/venues", {
    headers,
    body: { venue_name: "Hall", address: "1 Main Street" },
  });
  if (venue.error) throw new Error(venue.error.message);
  const venueId = venue.data.venue.venue_id;

  const seats = await client.POST("/api/v1/admin/venues/{venue_id}/seats", {
    headers,
    params: { path: { venue_id: venueId } },
    body: { rows: [{ seat_row: "A", count: 10 }] },
  });
  if (seats.error?.code === "CONFLICT") throw new Error(seats.error.message);

  const event = await client.POST("/api/v1/admin/events", {
    headers,
    body: { title: "Concert", description: null },
  });
  if (event.error) throw new Error(event.error.message);

  const show = await client.POST("/api/v1/admin/shows", {
    headers,
    body: {
      event_id: event.data.event.event_id,
      venue_id: venueId,
      start_time: "2030-01-01T19:00:00Z",
      end_time: "2030-01-01T21:00:00Z",
      price: 25,
    },
  });
  if (show.error) {
    if (show.error.code === "FORBIDDEN") throw new Error("not an admin");
    throw new Error(show.error.message);
  }

  const bookings = await client.GET("/api/v1/admin/bookings", {
    headers,
    params: { query: { page: 1, limit: 50 } },
  });
  const report = await client.GET("/api/v1/admin/analytics", { headers });
  const deleted = await client.DELETE("/api/v1/admin/shows/{show_id}", {
    headers,
    params: { path: { show_id: show.data.show.show_id }, query: { force: "true" } },
  });
  if (deleted.error?.code === "CONFLICT") throw new Error(deleted.error.message);
  return (bookings.data?.total ?? 0) + (report.data ? 1 : 0);
}
