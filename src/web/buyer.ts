/**
 * The buyer page: pick a show, watch its seat map live, hold seats, pay and confirm. It speaks
 * only the public API, as any other client would.
 */

type SeatStatus = "AVAILABLE" | "LOCKED" | "BOOKED";
interface Seat {
  seat_id: number;
  seat_row: string;
  seat_number: number;
  status: SeatStatus;
}
interface Show {
  show_id: number;
  start_time: string;
  price: number;
  event: { title: string };
  venue: { venue_name: string };
  available_seats: number;
  total_seats: number;
}
interface Hold {
  booking_id: number;
  status: string;
  amount: number;
  expires_at: string;
  seats: Omit<Seat, "status">[];
}
interface Booking extends Hold {
  show: Show;
}
interface ApiError {
  message: string;
  code: string;
  details?: Record<string, unknown>;
}

/** An answer outside 2xx, in the API's error shape. */
class RequestFailed extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiError,
    readonly retryAfter: string | null,
  ) {
    super(body.message);
  }
}

/** The token lives as long as the tab: sessionStorage, never localStorage. */
const TOKEN_KEY = "evently.token";
const MAX_SEATS_PER_HOLD = 10;
/** How long to wait before reopening a stream the server asked us to reopen, if it gave no time. */
const DEFAULT_RECONNECT_SECONDS = 5;

const element = <T extends HTMLElement = HTMLElement>(id: string) =>
  document.getElementById(id) as T;
const ui = {
  problem: element("problem"),
  login: element<HTMLFormElement>("login"),
  signedIn: element("signed-in"),
  who: element("who"),
  logout: element<HTMLButtonElement>("logout"),
  show: element<HTMLSelectElement>("show"),
  showFacts: element("show-facts"),
  live: element("live"),
  seatMap: element("seat-map"),
  holdChosen: element<HTMLButtonElement>("hold-chosen"),
  quantity: element<HTMLInputElement>("quantity"),
  holdBest: element<HTMLButtonElement>("hold-best"),
  hold: element("hold"),
  holdFacts: element("hold-facts"),
  pay: element<HTMLButtonElement>("pay"),
  release: element<HTMLButtonElement>("release"),
  bookings: element("bookings"),
};

const state = {
  token: sessionStorage.getItem(TOKEN_KEY),
  shows: new Map<number, Show>(),
  seats: new Map<number, Seat>(),
  chosen: new Set<number>(),
  /** The hold being paid for, and whether its payment already went through. */
  current: undefined as Hold | undefined,
  paid: false,
  stream: undefined as EventSource | undefined,
};

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(`/api/v1${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 204) return undefined as T;
  const data = await response.json();
  if (!response.ok)
    throw new RequestFailed(response.status, data, response.headers.get("Retry-After"));
  return data as T;
}

const seatName = (seat: Omit<Seat, "status">) => `${seat.seat_row}${seat.seat_number}`;
const seatNames = (ids: unknown[]) =>
  ids
    .map((id) =>
      state.seats.has(id as number) ? seatName(state.seats.get(id as number) as Seat) : `#${id}`,
    )
    .join(", ");
const money = (amount: number) => amount.toFixed(2);
const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

/** The server's sentence, plus what its details tell a buyer to do next. */
function explain(error: unknown, askedForBest = false): string {
  if (!(error instanceof RequestFailed)) return "The server could not be reached. Try again.";
  const { message, code, details = {} } = error.body;
  if (askedForBest && code === "VALIDATION_ERROR") {
    return "This server cannot pick seats for you yet: choose them on the map.";
  }
  const hints = [message];
  if (code === "WAITING_ROOM")
    hints.push(`You are number ${details.position} in line; try again shortly.`);
  if (Array.isArray(details.failed_seats)) hints.push(`Taken: ${seatNames(details.failed_seats)}.`);
  if (typeof details.remaining === "number") hints.push(`You may hold ${details.remaining} more.`);
  if (typeof details.available_seats === "number") {
    hints.push(
      `${details.available_seats} seats free, at most ${details.largest_block ?? 0} together.`,
    );
  }
  if (error.retryAfter) hints.push(`Retry in ${error.retryAfter} s.`);
  return `${hints.join(" ")} (${code})`;
}

function report(problem: string | undefined) {
  ui.problem.textContent = problem ?? "";
  ui.problem.hidden = problem === undefined;
}

/** Runs a button's action with the button disabled, showing what went wrong. */
async function act(button: HTMLButtonElement, action: () => Promise<void>, askedForBest = false) {
  button.disabled = true;
  report(undefined);
  try {
    await action();
  } catch (error) {
    report(explain(error, askedForBest));
  } finally {
    button.disabled = false;
    drawControls();
  }
}

// ---- Account ----

function signedIn(email: string | undefined) {
  ui.login.hidden = email !== undefined;
  ui.signedIn.hidden = email === undefined;
  ui.who.textContent = email ? `Signed in as ${email}` : "";
  drawControls();
}

ui.login.addEventListener("submit", (event) => {
  event.preventDefault();
  const submitter = (event as SubmitEvent).submitter as HTMLButtonElement;
  const form = new FormData(ui.login);
  const body = { email: form.get("email"), password: form.get("password") };
  void act(submitter, async () => {
    const path = submitter.value === "register" ? "/auth/register" : "/auth/login";
    const answer = await api<{ token: string; user: { email: string } }>("POST", path, body);
    state.token = answer.token;
    sessionStorage.setItem(TOKEN_KEY, answer.token);
    ui.login.reset();
    signedIn(answer.user.email);
    await loadBookings();
  });
});

ui.logout.addEventListener("click", () =>
  act(ui.logout, async () => {
    await api("POST", "/auth/logout").catch((error) => report(explain(error)));
    state.token = null;
    sessionStorage.removeItem(TOKEN_KEY);
    showHold(undefined);
    ui.bookings.replaceChildren();
    signedIn(undefined);
  }),
);

// ---- Seat map ----

async function loadShows() {
  const { shows } = await api<{ shows: Show[] }>("GET", "/shows?limit=100");
  state.shows = new Map(shows.map((show) => [show.show_id, show]));
  ui.show.replaceChildren(
    ...shows.map(
      (show) =>
        new Option(
          `${show.event.title} · ${show.venue.venue_name} · ${when(show.start_time)}`,
          String(show.show_id),
        ),
    ),
  );
  if (shows.length === 0) ui.showFacts.textContent = "No upcoming shows.";
  else await openShow(shows[0] as Show);
}

async function openShow(show: Show) {
  state.stream?.close();
  state.chosen.clear();
  ui.showFacts.textContent = `${when(show.start_time)} at ${show.venue.venue_name}, ${money(show.price)} a seat`;
  const map = await api<{ seats: Seat[] }>("GET", `/shows/${show.show_id}/seats`);
  replaceSeats(map.seats);
  listen(show.show_id);
}

function replaceSeats(seats: Seat[]) {
  state.seats = new Map(seats.map((seat) => [seat.seat_id, seat]));
  const rows = Map.groupBy(seats, (seat) => seat.seat_row);
  ui.seatMap.replaceChildren(
    ...[...rows].map(([row, rowSeats]) => {
      const line = document.createElement("div");
      line.className = "row";
      line.setAttribute("role", "group");
      line.setAttribute("aria-label", `Row ${row}`);
      const label = document.createElement("span");
      label.className = "row-name";
      label.textContent = row;
      line.append(label, ...rowSeats.map(seatButton));
      return line;
    }),
  );
  drawControls();
}

function seatButton(seat: Seat): HTMLButtonElement {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "seat";
  button.dataset.seatId = String(seat.seat_id);
  button.addEventListener("click", () => {
    if (state.chosen.has(seat.seat_id)) state.chosen.delete(seat.seat_id);
    else if (state.chosen.size < MAX_SEATS_PER_HOLD) state.chosen.add(seat.seat_id);
    drawSeat(seat);
    drawControls();
  });
  drawSeat(seat, button);
  return button;
}

/** Status is told by symbol and label as well as by colour. */
function drawSeat(
  seat: Seat,
  button = ui.seatMap.querySelector<HTMLButtonElement>(`[data-seat-id="${seat.seat_id}"]`),
) {
  if (!button) return;
  const mine = state.current?.seats.some((held) => held.seat_id === seat.seat_id) ?? false;
  const free = seat.status === "AVAILABLE";
  if (!free) state.chosen.delete(seat.seat_id);
  const chosen = state.chosen.has(seat.seat_id);
  button.dataset.status = seat.status;
  button.dataset.mine = String(mine);
  button.disabled = !free;
  button.setAttribute("aria-pressed", String(chosen));
  button.textContent = mine ? "★" : !free ? "✕" : chosen ? "✓" : String(seat.seat_number);
  const meaning = mine ? "held by you" : free ? (chosen ? "chosen" : "free") : "taken";
  button.setAttribute("aria-label", `Row ${seat.seat_row} seat ${seat.seat_number}, ${meaning}`);
}

/** The seat map stream: a full map first, then changes; `reconnect` asks for a fresh stream. */
function listen(showId: number) {
  const stream = new EventSource(`/api/v1/shows/${showId}/seats/stream`);
  state.stream = stream;
  stream.addEventListener("open", () => {
    ui.live.textContent = "Live: seats update as others book.";
  });
  stream.addEventListener("error", () => {
    ui.live.textContent = "Connection lost: reconnecting…";
  });
  stream.addEventListener("seats", (event) => replaceSeats(JSON.parse(event.data).seats));
  stream.addEventListener("change", (event) => {
    const change: { seat_ids: number[]; status: SeatStatus } = JSON.parse(event.data);
    for (const id of change.seat_ids) {
      const seat = state.seats.get(id);
      if (!seat) continue;
      seat.status = change.status;
      drawSeat(seat);
    }
    drawControls();
  });
  stream.addEventListener("reconnect", (event) => {
    stream.close();
    ui.live.textContent = "Live updates paused: reconnecting…";
    const seconds = JSON.parse(event.data).retry_after ?? DEFAULT_RECONNECT_SECONDS;
    setTimeout(() => state.stream === stream && listen(showId), seconds * 1000);
  });
}

ui.show.addEventListener("change", () => {
  const show = state.shows.get(Number(ui.show.value));
  if (show) openShow(show).catch((error) => report(explain(error)));
});

// ---- Holding, paying, confirming ----

function drawControls() {
  const count = state.chosen.size;
  const canHold = state.token !== null && state.current === undefined;
  ui.holdChosen.disabled = !canHold || count === 0;
  ui.holdChosen.textContent = count
    ? `Hold ${count} chosen seat${count > 1 ? "s" : ""}`
    : "Hold chosen seats";
  ui.holdBest.disabled = !canHold;
}

async function hold(body: Record<string, unknown>) {
  const answer = await api<Omit<Hold, "seats"> & { locked_seats: Hold["seats"] }>(
    "POST",
    "/bookings/lock",
    {
      show_id: Number(ui.show.value),
      ...body,
    },
  );
  state.chosen.clear();
  showHold({ ...answer, seats: answer.locked_seats });
  await loadBookings();
}

ui.holdChosen.addEventListener("click", () =>
  act(ui.holdChosen, () => hold({ seat_ids: [...state.chosen] })),
);
ui.holdBest.addEventListener("click", () =>
  act(ui.holdBest, () => hold({ quantity: ui.quantity.valueAsNumber, adjacent: true }), true),
);

function showHold(held: Hold | undefined) {
  const before = state.current?.seats ?? [];
  state.current = held;
  state.paid = false;
  ui.hold.hidden = held === undefined;
  for (const seat of [...before, ...(held?.seats ?? [])]) {
    const known = state.seats.get(seat.seat_id);
    if (known) drawSeat(known);
  }
  if (held) describeHold(held);
}

function describeHold(held: Hold) {
  const pending = held.status === "PENDING";
  const until = pending ? `, held until ${new Date(held.expires_at).toLocaleTimeString()}` : "";
  ui.holdFacts.textContent = `Booking ${held.booking_id}: seats ${held.seats.map(seatName).join(", ")}, ${money(held.amount)} — ${held.status}${until}`;
  ui.pay.hidden = !pending;
  ui.release.textContent = pending ? "Release" : "Done";
}

ui.pay.addEventListener("click", () =>
  act(ui.pay, async () => {
    const held = state.current as Hold;
    if (!state.paid) {
      await api("POST", "/bookings/payments/simulate", {
        booking_id: held.booking_id,
        amount: held.amount,
      });
      state.paid = true;
    }
    await api("POST", `/bookings/${held.booking_id}/confirm`, {});
    const { booking } = await api<{ booking: Booking }>("GET", `/bookings/${held.booking_id}`);
    state.current = booking;
    describeHold(booking);
    await loadBookings();
  }),
);

ui.release.addEventListener("click", () =>
  act(ui.release, async () => {
    const held = state.current as Hold;
    if (held.status === "PENDING") await api("POST", `/bookings/${held.booking_id}/cancel`, {});
    showHold(undefined);
    await loadBookings();
  }),
);

async function loadBookings() {
  if (!state.token) return;
  const { bookings } = await api<{ bookings: Booking[] }>("GET", "/user/bookings?limit=20");
  ui.bookings.replaceChildren(
    ...bookings.map((booking) => {
      const item = document.createElement("li");
      item.dataset.bookingId = String(booking.booking_id);
      item.dataset.status = booking.status;
      item.textContent = `${booking.status} · ${booking.show.event.title}, ${when(booking.show.start_time)} · seats ${booking.seats.map(seatName).join(", ")} · ${money(booking.amount)}`;
      return item;
    }),
  );
}

// ---- Start ----

async function start() {
  if (state.token) {
    // A token that expired or was revoked since the tab stored it just means "signed out".
    const me = await api<{ user: { email: string } }>("GET", "/auth/me").catch((error) => {
      if (error instanceof RequestFailed && error.status === 401) return undefined;
      throw error;
    });
    if (!me) {
      state.token = null;
      sessionStorage.removeItem(TOKEN_KEY);
    }
    signedIn(me?.user.email);
  } else {
    signedIn(undefined);
  }
  await Promise.all([loadShows(), loadBookings()]);
}

start().catch((error) => report(explain(error)));
