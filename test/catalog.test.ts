import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { bodyAt, expectPagingBounds } from "./support/answers";
import { createAdmin, registerUser, type TestUser } from "./support/fixtures";
import { answer, createTestApp, query, sql, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

/** Setup builds an app and data through the API: generous, as CI machines may be busy. */
const SETUP_TIMEOUT_MS = 60_000;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const MAX_ID = 2_147_483_647;

interface ShowSpec {
  key: string;
  event: string;
  venue: string;
  /** Start relative to now, in milliseconds. */
  startsIn: number;
  price: number;
}

interface VenueSpec {
  name: string;
  /** Explicit seats as "A1", "AA10", ... */
  seats: string[];
}

const rowSeats = (rows: string[], perRow: number) =>
  rows.flatMap((row) => Array.from({ length: perRow }, (_, i) => `${row}${i + 1}`));

const VENUES: VenueSpec[] = [
  { name: "Grand Hall", seats: rowSeats(["A", "B"], 3) },
  { name: "Stage 50% Off", seats: rowSeats(["A"], 2) },
  { name: "Stage 500 Off", seats: rowSeats(["A"], 2) },
  { name: "Little_Room", seats: rowSeats(["A"], 2) },
  { name: "LittleXRoom", seats: rowSeats(["A"], 2) },
  // Drawn A1, A2, A10, B1, AA1: shorter row names first, seats by number.
  { name: "Map Hall", seats: ["AA1", "B1", "A10", "A2", "A1"] },
  { name: "Empty Room", seats: [] },
];

const EVENTS: { title: string; description: string | null }[] = [
  { title: "Jazz Night", description: "Smooth" },
  { title: "100% Fun", description: null },
  { title: "1000 Fun", description: null },
  { title: "Under_score", description: null },
  { title: "UnderXscore", description: null },
  { title: "Back\\slash", description: null },
  { title: "Backslash", description: null },
  { title: "Sold Out Gala", description: "Gone" },
  { title: "Seat Map Show", description: null },
  { title: "Empty Show", description: null },
  { title: "Past Event", description: null },
  { title: "No Shows Yet", description: null },
];

const base = 10 * DAY;
// Created in this (shuffled) order, so id order differs from start order.
const SHOWS: ShowSpec[] = [
  { key: "jazz2", event: "Jazz Night", venue: "Little_Room", startsIn: base + 6 * HOUR, price: 30 },
  {
    key: "fun100",
    event: "100% Fun",
    venue: "Stage 50% Off",
    startsIn: base + 2 * HOUR,
    price: 10,
  },
  { key: "jazz1", event: "Jazz Night", venue: "Grand Hall", startsIn: base + HOUR, price: 25.5 },
  {
    key: "fun1000",
    event: "1000 Fun",
    venue: "Stage 500 Off",
    startsIn: base + 3 * HOUR,
    price: 19.99,
  },
  { key: "under", event: "Under_score", venue: "Little_Room", startsIn: base + 4 * HOUR, price: 5 },
  {
    key: "underX",
    event: "UnderXscore",
    venue: "LittleXRoom",
    startsIn: base + 5 * HOUR,
    price: 5,
  },
  { key: "back1", event: "Back\\slash", venue: "Grand Hall", startsIn: base + 7 * HOUR, price: 1 },
  { key: "back2", event: "Backslash", venue: "Grand Hall", startsIn: base + 8 * HOUR, price: 1 },
  {
    key: "soldOut",
    event: "Sold Out Gala",
    venue: "Little_Room",
    startsIn: base + 9 * HOUR,
    price: 99,
  },
  { key: "map", event: "Seat Map Show", venue: "Map Hall", startsIn: base + 10 * HOUR, price: 15 },
  { key: "empty", event: "Empty Show", venue: "Empty Room", startsIn: base + 11 * HOUR, price: 0 },
  // Same start as "map": ties are broken by show id.
  { key: "tie", event: "Jazz Night", venue: "Grand Hall", startsIn: base + 10 * HOUR, price: 20 },
  { key: "pastJazz", event: "Jazz Night", venue: "Grand Hall", startsIn: -2 * DAY, price: 25.5 },
  // Started an hour ago and still running: no longer upcoming.
  { key: "pastEvent", event: "Past Event", venue: "Grand Hall", startsIn: -HOUR, price: 8 },
];

interface CreatedShow extends ShowSpec {
  show_id: number;
  start_time: string;
  end_time: string;
}

describeEachBackend("catalogue on %s", (backend) => {
  let app: TestApp;
  let admin: TestUser;
  let user: TestUser;
  const venueIds = new Map<string, number>();
  const seatIds = new Map<string, Map<string, number>>();
  const eventIds = new Map<string, number>();
  const shows = new Map<string, CreatedShow>();
  /** Upcoming shows as the API should order them: start time, then id. */
  let upcoming: CreatedShow[] = [];

  const show = (key: string): CreatedShow => {
    const found = shows.get(key);
    if (!found) throw new Error(`no show ${key}`);
    return found;
  };
  const ids = (list: { show_id: number }[]) => list.map((item) => item.show_id);
  const idOf = (known: Map<string, number>, name: string) => {
    const id = known.get(name);
    if (id === undefined) throw new Error(`no id for ${name}`);
    return id;
  };
  const expectedIds = (predicate: (s: CreatedShow) => boolean) =>
    upcoming.filter(predicate).map((s) => s.show_id);

  beforeAll(async () => {
    app = await createTestApp(backend);
    admin = await createAdmin(app);
    user = await registerUser(app);
    const admin$ = app.client(admin.token).admin;

    for (const venue of VENUES) {
      const created = await answer(
        admin$.venues.$post({
          json: { venue_name: venue.name, address: `${venue.name} street 1` },
        }),
      );
      if (created.status !== 201) throw new Error(`venue: ${created.text}`);
      const venueId = bodyAt(created, 201).venue.venue_id;
      venueIds.set(venue.name, venueId);
      const seatMap = new Map<string, number>();
      seatIds.set(venue.name, seatMap);
      if (venue.seats.length === 0) continue;
      const layout = await answer(
        admin$.venues[":venue_id"].seats.$post({
          param: { venue_id: String(venueId) },
          json: {
            seats: venue.seats.map((label) => {
              const [, row = "", number] = /^([A-Z]+)(\d+)$/.exec(label) ?? [];
              return { seat_row: row, seat_number: Number(number) };
            }),
          },
        }),
      );
      if (layout.status !== 201) throw new Error(`seats: ${layout.text}`);
      for (const seat of bodyAt(layout, 201).seats) {
        seatMap.set(`${seat.seat_row}${seat.seat_number}`, seat.seat_id);
      }
    }

    for (const event of EVENTS) {
      const created = await answer(admin$.events.$post({ json: event }));
      if (created.status !== 201) throw new Error(`event: ${created.text}`);
      eventIds.set(event.title, bodyAt(created, 201).event.event_id);
    }

    const now = Date.now();
    for (const spec of SHOWS) {
      const start = new Date(now + spec.startsIn);
      start.setUTCMilliseconds(0);
      const end = new Date(start.getTime() + 2 * HOUR);
      const created = await answer(
        admin$.shows.$post({
          json: {
            event_id: idOf(eventIds, spec.event),
            venue_id: idOf(venueIds, spec.venue),
            start_time: start.toISOString(),
            end_time: end.toISOString(),
            price: spec.price,
          },
        }),
      );
      if (created.status !== 201) throw new Error(`show: ${created.text}`);
      shows.set(spec.key, {
        ...spec,
        show_id: bodyAt(created, 201).show.show_id,
        start_time: start.toISOString(),
        end_time: end.toISOString(),
      });
    }
    upcoming = [...shows.values()]
      .filter((s) => s.startsIn > 0)
      .sort((a, b) => a.start_time.localeCompare(b.start_time) || a.show_id - b.show_id);

    // Sell out "Sold Out Gala": every seat BOOKED by a CONFIRMED booking.
    const soldOut = show("soldOut");
    const [booking] = await query<{ booking_id: number }>(
      app,
      sql`insert into bookings (user_id, show_id, status, amount_cents, expires_at)
          values (${user.user_id}, ${soldOut.show_id}, 'CONFIRMED', 19800, now())
          returning booking_id`,
    );
    await query(
      app,
      sql`update show_seats set status = 'BOOKED', booking_id = ${booking?.booking_id}
          where show_id = ${soldOut.show_id}`,
    );
  }, SETUP_TIMEOUT_MS);
  afterAll(() => app.close(), SETUP_TIMEOUT_MS);

  /** The Show view the API must return for a created show, given its availability. */
  function expectedView(s: CreatedShow, available?: number) {
    const venue = VENUES.find((v) => v.name === s.venue);
    const event = EVENTS.find((e) => e.title === s.event);
    const total = venue?.seats.length ?? 0;
    return {
      show_id: s.show_id,
      start_time: s.start_time,
      end_time: s.end_time,
      sales_open_at: null,
      price: s.price,
      event: {
        event_id: idOf(eventIds, s.event),
        title: s.event,
        description: event?.description ?? null,
      },
      venue: {
        venue_id: idOf(venueIds, s.venue),
        venue_name: s.venue,
        address: `${s.venue} street 1`,
      },
      available_seats: available ?? (s.key === "soldOut" ? 0 : total),
      total_seats: total,
      deleted: false,
    };
  }

  type SearchQuery = {
    event?: string;
    venue?: string;
    from?: string;
    to?: string;
    availability?: "available";
    page?: string;
    limit?: string;
  };
  const search = (query: SearchQuery) => answer(app.client().shows.search.$get({ query }));
  /** Parameters the types refuse, sent unchecked. */
  const searchUnchecked = (params: Record<string, string>) =>
    app.request("GET", `/api/v1/shows/search?${new URLSearchParams(params).toString()}`);
  const listShows = (query: { page?: string; limit?: string } = {}) =>
    answer(app.client().shows.$get({ query }));
  const getShow = (showId: number) =>
    answer(app.client().shows[":show_id"].$get({ param: { show_id: String(showId) } }));
  const listEvents = (query: { page?: string; limit?: string }) =>
    answer(app.client().events.$get({ query }));
  const getEvent = (eventId: number) =>
    answer(app.client().events[":event_id"].$get({ param: { event_id: String(eventId) } }));

  // ---- listing ------------------------------------------------------------------------------

  describe("GET /shows", () => {
    test("lists upcoming shows soonest first (ties by id), past shows excluded", async () => {
      const response = await listShows();
      expect(response.status).toBe(200);
      expect(Object.keys(bodyAt(response, 200)).sort()).toEqual([
        "limit",
        "page",
        "shows",
        "total",
      ]);
      expect(bodyAt(response, 200).page).toBe(1);
      expect(bodyAt(response, 200).limit).toBe(20);
      expect(bodyAt(response, 200).total).toBe(upcoming.length);
      expect(ids(bodyAt(response, 200).shows)).toEqual(upcoming.map((s) => s.show_id));
      const listed = ids(bodyAt(response, 200).shows);
      expect(listed).not.toContain(show("pastJazz").show_id);
      expect(listed).not.toContain(show("pastEvent").show_id);
      expect(listed.indexOf(show("map").show_id)).toBeLessThan(listed.indexOf(show("tie").show_id));
    });

    test("every listed show has exactly the Show shape", async () => {
      const response = await listShows();
      for (const item of bodyAt(response, 200).shows) {
        const spec = upcoming.find((s) => s.show_id === item.show_id);
        if (!spec) throw new Error(`unexpected show ${item.show_id}`);
        if (spec.key === "map") continue; // its seats change in the seat map tests
        expect(item).toEqual(expectedView(spec));
      }
    });

    test("paginates with page and limit", async () => {
      const collected: number[] = [];
      const pages = Math.ceil(upcoming.length / 5);
      for (let page = 1; page <= pages; page++) {
        const response = await listShows({ page: String(page), limit: "5" });
        expect(response.status).toBe(200);
        expect(bodyAt(response, 200).page).toBe(page);
        expect(bodyAt(response, 200).limit).toBe(5);
        expect(bodyAt(response, 200).total).toBe(upcoming.length);
        expect(bodyAt(response, 200).shows.length).toBe(
          Math.min(5, upcoming.length - (page - 1) * 5),
        );
        collected.push(...ids(bodyAt(response, 200).shows));
      }
      expect(collected).toEqual(upcoming.map((s) => s.show_id));

      const beyond = await listShows({ page: String(pages + 1), limit: "5" });
      expect(beyond.status).toBe(200);
      expect(bodyAt(beyond, 200).shows).toEqual([]);
      expect(bodyAt(beyond, 200).total).toBe(upcoming.length);
    });

    test("bad pagination → 400 naming the parameter", async () => {
      await expectPagingBounds((query) => app.request("GET", `/api/v1/shows?${query}`));
    });
  });

  // ---- search -------------------------------------------------------------------------------

  describe("GET /shows/search", () => {
    test("event is a case-insensitive substring match over upcoming shows", async () => {
      for (const term of ["jazz", "JAZZ NIGHT", "azz nig"]) {
        const response = await search({ event: term });
        expect(response.status).toBe(200);
        expect(ids(bodyAt(response, 200).shows)).toEqual(
          expectedIds((s) => s.event === "Jazz Night"),
        );
        expect(bodyAt(response, 200).total).toBe(3);
      }
      expect(ids(bodyAt(await search({ event: "jazz" }), 200).shows)).not.toContain(
        show("pastJazz").show_id,
      );
    });

    test("venue is a case-insensitive substring match", async () => {
      const response = await search({ venue: "GRAND" });
      expect(response.status).toBe(200);
      expect(ids(bodyAt(response, 200).shows)).toEqual(
        expectedIds((s) => s.venue === "Grand Hall"),
      );
      expect(bodyAt(response, 200).shows.length).toBe(4);
    });

    test("event and venue combine", async () => {
      const response = await search({ event: "jazz", venue: "little" });
      expect(response.status).toBe(200);
      expect(ids(bodyAt(response, 200).shows)).toEqual([show("jazz2").show_id]);
    });

    test("% in a search term matches a literal percent sign only", async () => {
      const percent = await search({ event: "100%" });
      expect(percent.status).toBe(200);
      expect(ids(bodyAt(percent, 200).shows)).toEqual([show("fun100").show_id]);
      expect(bodyAt(percent, 200).total).toBe(1);
      // Without the %, both events match: the 1000 one exists and is searchable.
      const plain = await search({ event: "100" });
      expect(ids(bodyAt(plain, 200).shows)).toEqual([
        show("fun100").show_id,
        show("fun1000").show_id,
      ]);

      const venuePercent = await search({ venue: "50%" });
      expect(ids(bodyAt(venuePercent, 200).shows)).toEqual([show("fun100").show_id]);
      const onlyPercent = await search({ event: "%" });
      expect(ids(bodyAt(onlyPercent, 200).shows)).toEqual([show("fun100").show_id]);
    });

    test("_ in a search term matches a literal underscore only", async () => {
      const underscore = await search({ event: "r_s" });
      expect(underscore.status).toBe(200);
      expect(ids(bodyAt(underscore, 200).shows)).toEqual([show("under").show_id]);
      const x = await search({ event: "rXs" });
      expect(ids(bodyAt(x, 200).shows)).toEqual([show("underX").show_id]);

      const venueUnderscore = await search({ venue: "e_R" });
      expect(ids(bodyAt(venueUnderscore, 200).shows)).toEqual(
        expectedIds((s) => s.venue === "Little_Room"),
      );
      expect(ids(bodyAt(venueUnderscore, 200).shows)).not.toContain(show("underX").show_id);
    });

    test("a backslash in a search term matches a literal backslash", async () => {
      const response = await search({ event: "k\\s" });
      expect(response.status).toBe(200);
      expect(ids(bodyAt(response, 200).shows)).toEqual([show("back1").show_id]);
    });

    test("no match → 200 with an empty page", async () => {
      const response = await search({ event: "no such event anywhere" });
      expect(response.status).toBe(200);
      expect(bodyAt(response, 200).shows).toEqual([]);
      expect(bodyAt(response, 200).total).toBe(0);
    });

    test("from/to bound the start time, inclusively", async () => {
      const from = show("fun100").start_time;
      const to = show("under").start_time;
      const both = await search({ from, to });
      expect(both.status).toBe(200);
      expect(ids(bodyAt(both, 200).shows)).toEqual([
        show("fun100").show_id,
        show("fun1000").show_id,
        show("under").show_id,
      ]);

      const fromOnly = await search({ from: show("soldOut").start_time });
      expect(ids(bodyAt(fromOnly, 200).shows)).toEqual(
        expectedIds((s) => s.start_time >= show("soldOut").start_time),
      );

      const toOnly = await search({ to: show("fun100").start_time });
      expect(ids(bodyAt(toOnly, 200).shows)).toEqual([
        show("jazz1").show_id,
        show("fun100").show_id,
      ]);

      // A `from` in the past still never brings back past shows.
      const pastFrom = await search({
        from: new Date(Date.now() - 30 * DAY).toISOString(),
        event: "jazz",
      });
      expect(ids(bodyAt(pastFrom, 200).shows)).toEqual(
        expectedIds((s) => s.event === "Jazz Night"),
      );

      // Offsets are understood: 1 hour before fun100's start, written in +01:00, is fun100's start.
      const offset = new Date(show("fun100").start_time);
      const local = new Date(offset.getTime() + HOUR).toISOString().replace("Z", "+01:00");
      const withOffset = await search({ from: local, to: local });
      expect(ids(bodyAt(withOffset, 200).shows)).toEqual([show("fun100").show_id]);
    });

    test("availability=available excludes sold-out shows and shows without seats", async () => {
      const all = await search({});
      expect(all.status).toBe(200);
      expect(ids(bodyAt(all, 200).shows)).toEqual(upcoming.map((s) => s.show_id));

      const available = await search({ availability: "available" });
      expect(available.status).toBe(200);
      expect(ids(bodyAt(available, 200).shows)).toEqual(
        expectedIds((s) => s.key !== "soldOut" && s.key !== "empty"),
      );
      expect(bodyAt(available, 200).total).toBe(upcoming.length - 2);

      const gala = await search({ event: "sold out" });
      expect(ids(bodyAt(gala, 200).shows)).toEqual([show("soldOut").show_id]);
      expect(bodyAt(gala, 200).shows[0]?.available_seats).toBe(0);
      expect(bodyAt(gala, 200).shows[0]?.total_seats).toBe(2);
      const galaAvailable = await search({ event: "sold out", availability: "available" });
      expect(galaAvailable.status).toBe(200);
      expect(bodyAt(galaAvailable, 200).shows).toEqual([]);
      expect(bodyAt(galaAvailable, 200).total).toBe(0);
    });

    test("search paginates", async () => {
      const first = await search({ venue: "grand", limit: "2", page: "1" });
      const second = await search({ venue: "grand", limit: "2", page: "2" });
      expect(first.status).toBe(200);
      expect(bodyAt(first, 200).limit).toBe(2);
      expect(bodyAt(second, 200).page).toBe(2);
      expect(bodyAt(first, 200).total).toBe(4);
      expect([...ids(bodyAt(first, 200).shows), ...ids(bodyAt(second, 200).shows)]).toEqual(
        expectedIds((s) => s.venue === "Grand Hall"),
      );
    });

    test("bad search parameters → 400 naming the parameter", async () => {
      for (const [params, field] of [
        [{ from: "yesterday" }, "from"],
        [{ to: "2026-12-01" }, "to"],
        [{ from: "2026-12-01T19:30:00" }, "from"],
        [{ availability: "all" }, "availability"],
        [{ limit: "1000" }, "limit"],
        [{ event: "a\u0000b" }, "event"],
        [{ venue: "\u0000" }, "venue"],
      ] as const) {
        const response = await searchUnchecked(params);
        expect({ params, status: response.status }).toEqual({ params, status: 400 });
        expect(response.body.code).toBe("VALIDATION_ERROR");
        expect(Object.keys(response.body.details)).toContain(field);
      }
    });
  });

  // ---- one show -----------------------------------------------------------------------------

  describe("GET /shows/:show_id", () => {
    test("returns exactly the Show shape", async () => {
      const response = await getShow(show("jazz1").show_id);
      expect(response.status).toBe(200);
      expect(Object.keys(bodyAt(response, 200))).toEqual(["show"]);
      const body = bodyAt(response, 200).show;
      expect(Object.keys(body).sort()).toEqual(
        [
          "available_seats",
          "deleted",
          "end_time",
          "event",
          "price",
          "sales_open_at",
          "show_id",
          "start_time",
          "total_seats",
          "venue",
        ].sort(),
      );
      expect(body.deleted).toBe(false);
      expect(Object.keys(body.event).sort()).toEqual(["description", "event_id", "title"]);
      expect(Object.keys(body.venue).sort()).toEqual(["address", "venue_id", "venue_name"]);
      expect(body).toEqual(expectedView(show("jazz1")));
      expect(body.price).toBe(25.5);
      expect(body.start_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

      const cents = await getShow(show("fun1000").show_id);
      expect(bodyAt(cents, 200).show.price).toBe(19.99);
      const free = await getShow(show("empty").show_id);
      expect(bodyAt(free, 200).show.price).toBe(0);
      expect(bodyAt(free, 200).show.total_seats).toBe(0);
      expect(bodyAt(free, 200).show.available_seats).toBe(0);
    });

    test("a sold-out show reports 0 available seats", async () => {
      const response = await getShow(show("soldOut").show_id);
      expect(response.status).toBe(200);
      expect(bodyAt(response, 200).show).toEqual(expectedView(show("soldOut"), 0));
    });

    test("unknown show → 404 'Show not found'", async () => {
      for (const path of [`/api/v1/shows/${MAX_ID}`, `/api/v1/shows/${MAX_ID}/seats`]) {
        const response = await app.request("GET", path);
        expect(response.status).toBe(404);
        expect(response.body.code).toBe("NOT_FOUND");
        expect(response.body.message).toBe("Show not found");
      }
    });

    test("bad show ids → 400 VALIDATION_ERROR", async () => {
      for (const id of ["abc", "-4", "1.5", "99999999999", "0", String(2 ** 31)]) {
        for (const path of [`/api/v1/shows/${id}`, `/api/v1/shows/${id}/seats`]) {
          const response = await app.request("GET", path);
          expect({ path, status: response.status }).toEqual({ path, status: 400 });
          expect(response.body.code).toBe("VALIDATION_ERROR");
          expect(Object.keys(response.body.details)).toContain("show_id");
        }
      }
    });
  });

  // ---- seat map -----------------------------------------------------------------------------

  describe("GET /shows/:show_id/seats", () => {
    test("lists every seat in layout order with its status", async () => {
      const mapShow = show("map");
      const response = await app.request("GET", `/api/v1/shows/${mapShow.show_id}/seats`);
      expect(response.status).toBe(200);
      expect(Object.keys(response.body).sort()).toEqual(["seats", "show_id"]);
      expect(response.body.show_id).toBe(mapShow.show_id);
      const seatsOf = seatIds.get("Map Hall");
      expect(response.body.seats).toEqual(
        ["A1", "A2", "A10", "B1", "AA1"].map((label) => ({
          seat_id: seatsOf?.get(label),
          seat_row: label.replace(/\d+$/, ""),
          seat_number: Number(label.replace(/^[A-Z]+/, "")),
          status: "AVAILABLE",
        })),
      );
    });

    test("a sold-out show's seats are BOOKED; a show without seats has an empty map", async () => {
      const soldOut = await app.request("GET", `/api/v1/shows/${show("soldOut").show_id}/seats`);
      expect(soldOut.status).toBe(200);
      expect(soldOut.body.seats.map((seat: { status: string }) => seat.status)).toEqual([
        "BOOKED",
        "BOOKED",
      ]);
      const empty = await app.request("GET", `/api/v1/shows/${show("empty").show_id}/seats`);
      expect(empty.status).toBe(200);
      expect(empty.body).toEqual({ show_id: show("empty").show_id, seats: [] });
    });

    test("LOCKED, BOOKED and expired holds: an expired hold is AVAILABLE and counts as free", async () => {
      const mapShow = show("map");
      const seatsOf = seatIds.get("Map Hall") as Map<string, number>;
      const seat = (label: string) => seatsOf.get(label) as number;

      const [live] = await query<{ booking_id: number }>(
        app,
        sql`insert into bookings (user_id, show_id, status, amount_cents, expires_at)
            values (${user.user_id}, ${mapShow.show_id}, 'PENDING', 1500,
                    now() + interval '10 minutes')
            returning booking_id`,
      );
      await query(
        app,
        sql`update show_seats set status = 'LOCKED', booking_id = ${live?.booking_id},
              locked_until = now() + interval '10 minutes'
            where show_id = ${mapShow.show_id} and seat_id = ${seat("A1")}`,
      );
      const [expired] = await query<{ booking_id: number }>(
        app,
        sql`insert into bookings (user_id, show_id, status, amount_cents, expires_at)
            values (${user.user_id}, ${mapShow.show_id}, 'PENDING', 1500,
                    now() - interval '1 minute')
            returning booking_id`,
      );
      await query(
        app,
        sql`update show_seats set status = 'LOCKED', booking_id = ${expired?.booking_id},
              locked_until = now() - interval '1 minute'
            where show_id = ${mapShow.show_id} and seat_id = ${seat("A2")}`,
      );
      const [confirmed] = await query<{ booking_id: number }>(
        app,
        sql`insert into bookings (user_id, show_id, status, amount_cents, expires_at)
            values (${user.user_id}, ${mapShow.show_id}, 'CONFIRMED', 1500, now())
            returning booking_id`,
      );
      await query(
        app,
        sql`update show_seats set status = 'BOOKED', booking_id = ${confirmed?.booking_id}
            where show_id = ${mapShow.show_id} and seat_id = ${seat("A10")}`,
      );
      // These rows were changed behind the app's back: announce it, as the app does after
      // its own changes, so the cached seat map is rebuilt.
      await app.runtime.services.seatMap.changed(mapShow.show_id);

      const map = await app.request("GET", `/api/v1/shows/${mapShow.show_id}/seats`);
      expect(map.status).toBe(200);
      expect(
        map.body.seats.map((s: { seat_row: string; seat_number: number; status: string }) => [
          `${s.seat_row}${s.seat_number}`,
          s.status,
        ]),
      ).toEqual([
        ["A1", "LOCKED"],
        ["A2", "AVAILABLE"],
        ["A10", "BOOKED"],
        ["B1", "AVAILABLE"],
        ["AA1", "AVAILABLE"],
      ]);

      const detail = await getShow(mapShow.show_id);
      expect(detail.status).toBe(200);
      expect(bodyAt(detail, 200).show).toEqual(expectedView(mapShow, 3));

      // The row itself is still LOCKED: the map reads through it, nothing rewrote it.
      const [row] = await query<{ status: string }>(
        app,
        sql`select status from show_seats
            where show_id = ${mapShow.show_id} and seat_id = ${seat("A2")}`,
      );
      expect(row?.status).toBe("LOCKED");

      // availability=available still keeps the show, and lists show the same counts.
      const available = await search({ event: "seat map", availability: "available" });
      expect(ids(bodyAt(available, 200).shows)).toEqual([mapShow.show_id]);
      expect(bodyAt(available, 200).shows[0]?.available_seats).toBe(3);
      const listed = await listShows();
      const inList = bodyAt(listed, 200).shows.find(
        (s: { show_id: number }) => s.show_id === mapShow.show_id,
      );
      expect(inList?.available_seats).toBe(3);
      expect(inList?.total_seats).toBe(5);
    });
  });

  // ---- events -------------------------------------------------------------------------------

  describe("GET /events", () => {
    test("lists events in id order, each with its upcoming shows", async () => {
      const response = await listEvents({ limit: "100" });
      expect(response.status).toBe(200);
      expect(Object.keys(bodyAt(response, 200)).sort()).toEqual([
        "events",
        "limit",
        "page",
        "total",
      ]);
      expect(bodyAt(response, 200).total).toBe(EVENTS.length);
      expect(bodyAt(response, 200).page).toBe(1);
      expect(bodyAt(response, 200).limit).toBe(100);
      expect(bodyAt(response, 200).events.map((e: { title: string }) => e.title)).toEqual(
        EVENTS.map((e) => e.title),
      );
      for (const event of bodyAt(response, 200).events) {
        expect(Object.keys(event).sort()).toEqual([
          "created_at",
          "description",
          "event_id",
          "shows",
          "title",
        ]);
        expect(event.event_id).toBe(idOf(eventIds, event.title));
        expect(event.description).toBe(
          EVENTS.find((e) => e.title === event.title)?.description ?? null,
        );
        expect(ids(event.shows)).toEqual(expectedIds((s) => s.event === event.title));
      }
      const jazz = bodyAt(response, 200).events.find(
        (e: { title: string }) => e.title === "Jazz Night",
      );
      expect(ids(jazz?.shows ?? [])).toEqual([
        show("jazz1").show_id,
        show("jazz2").show_id,
        show("tie").show_id,
      ]);
      expect(jazz?.shows[0]).toEqual(expectedView(show("jazz1")));
      const past = bodyAt(response, 200).events.find(
        (e: { title: string }) => e.title === "Past Event",
      );
      expect(past?.shows).toEqual([]);
    });

    test("paginates events", async () => {
      const first = await listEvents({ limit: "5", page: "1" });
      const third = await listEvents({ limit: "5", page: "3" });
      expect(first.status).toBe(200);
      expect(bodyAt(first, 200).events.length).toBe(5);
      expect(bodyAt(first, 200).total).toBe(EVENTS.length);
      expect(bodyAt(third, 200).page).toBe(3);
      expect(bodyAt(third, 200).events.map((e: { title: string }) => e.title)).toEqual(
        EVENTS.slice(10).map((e) => e.title),
      );
      const bad = await app.request("GET", "/api/v1/events?limit=0");
      expect(bad.status).toBe(400);
      expect(bad.body.code).toBe("VALIDATION_ERROR");
    });

    test("GET /events/:event_id returns the event with its upcoming shows", async () => {
      const jazzId = idOf(eventIds, "Jazz Night");
      const response = await getEvent(jazzId);
      expect(response.status).toBe(200);
      expect(Object.keys(bodyAt(response, 200))).toEqual(["event"]);
      const event = bodyAt(response, 200).event;
      expect(event).toEqual({
        event_id: jazzId,
        title: "Jazz Night",
        description: "Smooth",
        created_at: expect.any(String),
        shows: [
          expectedView(show("jazz1")),
          expectedView(show("jazz2")),
          expectedView(show("tie")),
        ],
      });
      expect(new Date(event.created_at).toISOString()).toBe(event.created_at);

      const none = await getEvent(idOf(eventIds, "No Shows Yet"));
      expect(none.status).toBe(200);
      expect(bodyAt(none, 200).event.shows).toEqual([]);
      const pastOnly = await getEvent(idOf(eventIds, "Past Event"));
      expect(pastOnly.status).toBe(200);
      expect(bodyAt(pastOnly, 200).event.shows).toEqual([]);
    });

    test("unknown event → 404, bad ids → 400", async () => {
      const unknown = await app.request("GET", `/api/v1/events/${MAX_ID}`);
      expect(unknown.status).toBe(404);
      expect(unknown.body.code).toBe("NOT_FOUND");
      expect(unknown.body.message).toBe("Event not found");
      for (const id of ["abc", "-4", "1.5", "99999999999", "0"]) {
        const response = await app.request("GET", `/api/v1/events/${id}`);
        expect({ id, status: response.status }).toEqual({ id, status: 400 });
        expect(response.body.code).toBe("VALIDATION_ERROR");
        expect(Object.keys(response.body.details)).toContain("event_id");
      }
    });
  });
});
