import { afterAll, beforeAll, expect, test } from "bun:test";
import {
  createAdmin,
  createShowFixture,
  createUsersDirect,
  holdSeats,
  type TestUser,
} from "./support/fixtures";
import { createTestApp, type TestApp } from "./support/harness";
import { describeEachBackend } from "./support/services";

const OPENS_IN_MS = 1500;

async function showOpeningSoon(app: TestApp, adminToken: string) {
  const show = await createShowFixture(app, adminToken, { rows: ["A"], perRow: 10 });
  const opensAt = new Date(Date.now() + OPENS_IN_MS);
  const updated = await app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
    token: adminToken,
    body: { sales_open_at: opensAt.toISOString() },
  });
  expect(updated.status).toBe(200);
  expect(updated.body.show.sales_open_at).toBe(opensAt.toISOString());
  return { show, opensAt };
}

const untilOpen = (opensAt: Date) => Bun.sleep(Math.max(0, opensAt.getTime() - Date.now()) + 100);

describeEachBackend("sale opening on %s", (backend) => {
  let app: TestApp;
  let roomApp: TestApp;
  let adminToken: string;

  beforeAll(async () => {
    app = await createTestApp(backend);
    roomApp = await createTestApp(backend, {
      WAITING_ROOM_ENABLED: "1",
      WAITING_ROOM_THRESHOLD: "2",
    });
    adminToken = (await createAdmin(app)).token;
  });
  afterAll(async () => {
    await roomApp.close();
    await app.close();
  });

  test("without the waiting room, holds before sales open are refused with 409 SALES_NOT_OPEN", async () => {
    const { show, opensAt } = await showOpeningSoon(app, adminToken);
    const [user] = (await createUsersDirect(app, 1)) as [TestUser];
    const early = await holdSeats(app, user, show.show_id, [show.seat_ids[0] as number]);
    expect(early.status).toBe(409);
    expect(early.body.code).toBe("SALES_NOT_OPEN");
    expect(early.body.details.sales_open_at).toBe(opensAt.toISOString());
    await untilOpen(opensAt);
    expect((await holdSeats(app, user, show.show_id, [show.seat_ids[0] as number])).status).toBe(
      200,
    );
  });

  test("with the waiting room, early arrivals join a pre-queue drawn at random at opening, ahead of later ones", async () => {
    const admin = (await createAdmin(roomApp)).token;
    const { show, opensAt } = await showOpeningSoon(roomApp, admin);
    const early = (await createUsersDirect(roomApp, 5)) as TestUser[];
    for (const [index, user] of early.entries()) {
      const response = await holdSeats(roomApp, user, show.show_id, [
        show.seat_ids[index] as number,
      ]);
      expect(response.status).toBe(429);
      expect(response.body.code).toBe("WAITING_ROOM");
      expect(response.body.details.pre_queue).toBe(true);
      expect(Number(response.headers.get("Retry-After"))).toBeGreaterThan(0);
    }
    const before = await roomApp.request("GET", `/api/v1/waiting-room/${show.show_id}`, {
      token: early[0]?.token,
    });
    expect(before.body).toEqual({ status: "open", sales_open_at: opensAt.toISOString() });

    await untilOpen(opensAt);
    const [late] = (await createUsersDirect(roomApp, 1)) as [TestUser];
    const lateAnswer = await holdSeats(roomApp, late, show.show_id, [show.seat_ids[9] as number]);
    expect(lateAnswer.status).toBe(429);
    // Behind every early arrival, whatever the draw: threshold 2 admits two, three wait.
    expect(lateAnswer.body.details.position).toBe(4);

    const states = [];
    for (const user of early) {
      const status = await roomApp.request("GET", `/api/v1/waiting-room/${show.show_id}`, {
        token: user.token,
      });
      states.push(status.body);
    }
    expect(states.filter((state) => state.status === "admitted")).toHaveLength(2);
    expect(
      states
        .filter((state) => state.status === "queued")
        .map((state) => state.position)
        .sort(),
    ).toEqual([1, 2, 3]);
  });

  test("sales_open_at must come before the show starts", async () => {
    const show = await createShowFixture(app, adminToken);
    const response = await app.request("PUT", `/api/v1/admin/shows/${show.show_id}`, {
      token: adminToken,
      body: { sales_open_at: new Date(Date.now() + 100 * 3_600_000).toISOString() },
    });
    expect(response.status).toBe(400);
    expect(response.body.details.sales_open_at).toBeDefined();
  });
});
