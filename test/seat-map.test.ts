import { afterAll, beforeAll, expect, spyOn, test } from "bun:test";
import { SeatLayout } from "../src/modules/seat-map/layout";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  type ShowFixture,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

const statusOf = (body: { seats: { seat_id: number; status: string }[] }, seatId: number) =>
  body.seats.find((seat) => seat.seat_id === seatId)?.status;

describeEachBackend("cached seat map on %s", (backend) => {
  let app: TestApp;
  let other: TestApp;
  let show: ShowFixture;

  beforeAll(async () => {
    app = await createTestApp(backend, { HOLD_TTL_SECONDS: "1" });
    // Embedded mode is one process, hence one instance; with Redis, a second one.
    other =
      backend === "postgres"
        ? await createTestApp(backend, { HOLD_TTL_SECONDS: "1" }, { sameDataAs: app })
        : app;
    show = await createShowFixture(app, (await createAdmin(app)).token, { rows: ["A"], perRow: 4 });
  });
  afterAll(async () => {
    if (other !== app) await other.close();
    await app.close();
  });

  const seatMap = (target: TestApp, etag?: string) =>
    target.request("GET", `/api/v1/shows/${show.show_id}/seats`, {
      headers: etag ? { "If-None-Match": etag } : {},
    });

  test("an unchanged map is revalidated with its ETag (304); a hold through another instance changes it", async () => {
    const first = await seatMap(app);
    expect(first.status).toBe(200);
    const etag = first.headers.get("ETag") as string;
    expect(etag).toMatch(/^".+"$/);
    expect(first.headers.get("Cache-Control")).toBe("no-cache");
    const unchanged = await seatMap(app, etag);
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe("");

    const [user] = await createUsersDirect(other, 1);
    const seatId = show.seat_ids[0] as number;
    const held = await holdSeats(other, user as TestUser, show.show_id, [seatId]);
    expect(held.status).toBe(200);

    const changed = await seatMap(app, etag);
    expect(changed.status).toBe(200);
    expect(changed.headers.get("ETag")).not.toBe(etag);
    expect(statusOf(changed.body, seatId)).toBe("LOCKED");

    // The hold runs out with no event at all: the cached map must not outlive it.
    await Bun.sleep(1200);
    const lapsed = await seatMap(app);
    expect(statusOf(lapsed.body, seatId)).toBe("AVAILABLE");
  });

  test("the body is compact JSON in layout order, whatever the row names hold", async () => {
    const admin = await createAdmin(app);
    const rows = ["B", 'Ö"\\', "AA", "A", "T\tU\u0001"];
    const odd = await createShowFixture(app, admin.token, { rows, perRow: 2 });
    const response = await seatMap(app).then(() =>
      app.request("GET", `/api/v1/shows/${odd.show_id}/seats`),
    );
    expect(response.status).toBe(200);
    expect(response.text).toBe(JSON.stringify(response.body));
    expect(response.body.show_id).toBe(odd.show_id);
    const layout = response.body.seats.map(
      (seat: { seat_row: string; seat_number: number }) => `${seat.seat_row}${seat.seat_number}`,
    );
    expect(layout).toEqual([
      "A1",
      "A2",
      "B1",
      "B2",
      "AA1",
      "AA2",
      'Ö"\\1',
      'Ö"\\2',
      "T\tU\u00011",
      "T\tU\u00012",
    ]);
    for (const seat of response.body.seats) {
      expect(Object.keys(seat)).toEqual(["seat_id", "seat_row", "seat_number", "status"]);
      expect(seat.status).toBe("AVAILABLE");
    }
  });

  test("seats added to and removed from the venue through another instance reach a cached map", async () => {
    const admin = await createAdmin(app);
    const venueShow = await createShowFixture(app, admin.token, { rows: ["B"], perRow: 2 });
    const path = `/api/v1/shows/${venueShow.show_id}/seats`;
    const labels = async () =>
      ((await app.request("GET", path)).body.seats as { seat_row: string; seat_number: number }[])
        .map((seat) => `${seat.seat_row}${seat.seat_number}`)
        .join(" ");
    expect(await labels()).toBe("B1 B2");

    const seatsPath = `/api/v1/admin/venues/${venueShow.venue_id}/seats`;
    const added = await other.request("POST", seatsPath, {
      token: admin.token,
      body: { rows: [{ seat_row: "A", count: 2 }] },
    });
    expect(added.status).toBe(201);
    expect(await labels()).toBe("A1 A2 B1 B2");

    const removed = await other.request("DELETE", seatsPath, {
      token: admin.token,
      body: { seat_ids: [venueShow.seat_ids[0]] },
    });
    expect(removed.status).toBe(204);
    expect(await labels()).toBe("A1 A2 B2");
  });

  test("a show moved through another instance to a venue of as many seats shows its new seats", async () => {
    const admin = await createAdmin(app);
    const moving = await createShowFixture(app, admin.token, { rows: ["C"], perRow: 2 });
    const target = await createShowFixture(app, admin.token, { rows: ["D"], perRow: 2 });
    const path = `/api/v1/shows/${moving.show_id}/seats`;
    const seatsOf = async () =>
      ((await app.request("GET", path)).body.seats as { seat_id: number; seat_row: string }[]).map(
        (seat) => `${seat.seat_row}:${seat.seat_id}`,
      );
    expect(await seatsOf()).toEqual(moving.seat_ids.map((id) => `C:${id}`));

    const moved = await other.request("PUT", `/api/v1/admin/shows/${moving.show_id}`, {
      token: admin.token,
      body: { venue_id: target.venue_id },
    });
    expect(moved.status).toBe(200);
    expect(await seatsOf()).toEqual(target.seat_ids.map((id) => `D:${id}`));
  });

  test("a layout that keeps changing while the map is built is a 503 to retry, not a 500", async () => {
    const admin = await createAdmin(app);
    const churning = await createShowFixture(app, admin.token, { rows: ["A"], perRow: 2 });
    const read = SeatLayout.read;
    // Every layout read finds other seats than the status read before it.
    const spy = spyOn(SeatLayout, "read").mockImplementation(async (db, showId) =>
      Object.defineProperty(await read(db, showId), "fingerprint", { value: "1/0/0" }),
    );
    try {
      const response = await app.request("GET", `/api/v1/shows/${churning.show_id}/seats`);
      expect(response.status).toBe(503);
      expect(response.body.code).toBe("UNAVAILABLE");
      expect(response.headers.get("Retry-After")).toBe("1");
      expect(spy).toHaveBeenCalledTimes(3);
    } finally {
      spy.mockRestore();
    }
    expect((await app.request("GET", `/api/v1/shows/${churning.show_id}/seats`)).status).toBe(200);
  });

  test("readers who find the map out of date together share one build", async () => {
    const service = app.runtime.services.seatMap as unknown as {
      build(showId: number): Promise<unknown>;
    };
    const build = service.build;
    let builds = 0;
    service.build = function (this: unknown, showId: number) {
      builds++;
      return build.call(this, showId);
    };
    try {
      await app.runtime.services.seatMap.changed(show.show_id);
      const answers = await Promise.all(Array.from({ length: 20 }, () => seatMap(app)));
      expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
      expect(new Set(answers.map((answer) => answer.text)).size).toBe(1);
      expect(builds).toBe(1);
    } finally {
      service.build = build;
    }
  });

  test("an unknown show is still a 404, not a cached empty map, and leaves no version", async () => {
    const missing = await app.request("GET", "/api/v1/shows/999999/seats");
    expect(missing.status).toBe(404);
    expect(missing.body.code).toBe("NOT_FOUND");
    // Anyone may read maps: an unknown id must not leave a key in Redis for good.
    expect(await app.runtime.services.seatMap.versions.current(999999)).toBeUndefined();
  });
});
