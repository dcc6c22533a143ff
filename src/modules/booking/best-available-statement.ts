import { sql } from "drizzle-orm";
import { execRows, type Queryable, Statement } from "../../db/client";
import type { LogStamp } from "./booking-log";
import {
  type Held,
  type HoldTerms,
  heldBooking,
  holdGuard,
  holdWrites,
  isSeatRowsChanged,
  type SeatRef,
} from "./hold-statement";

export interface BestAvailableRequest extends HoldTerms {
  quantity: number;
  /** One block of consecutive seat numbers in one row, or any seats. */
  adjacent: boolean;
  /**
   * Without ranks in the layout, only the front rows holding this many free seats are looked
   * at (every block of a row is better than any block of the rows behind it); EVERY_ROW
   * looks at all of them.
   */
  nearSeats: number;
}

/**
 * Free seats of the front rows a first pick looks at: enough disjoint blocks for the
 * concurrent pickers of a busy sale, a fraction of a large show to rank.
 */
export const NEAR_SEATS = 256;
export const EVERY_ROW = 2_147_483_647;

export type BestAvailableOutcome =
  | Held
  /** Seats that would do exist, but concurrent pickers had them row-locked: pick again. */
  | { kind: "raced" }
  /** Nothing fits in the front rows it looked at: look at every row. */
  | { kind: "look_further" }
  /**
   * Holds of the show ran out and still lock their seats, which are free: they expire first
   * (nothing was picked).
   */
  | { kind: "lapsed" }
  /** Nothing fits: free seats now, and the longest run of adjacent free seats. */
  | { kind: "not_enough"; availableSeats: number; largestBlock: number }
  | { kind: "over_limit"; remaining: number }
  | { kind: "not_on_sale" };

/** What both pick statements answer about the seats they chose and the hold they made. */
interface PickedRow {
  seats: SeatRef[] | null;
  /** Seats the statement row-locked for the booking (all of them, or fewer after a race). */
  locked_seats: number;
  booking_id: number | null;
  amount_cents: number | null;
  expires_at: string | Date | null;
  seats_held: number | null;
}

/** The columns after `seats_held` are null when the statement held the seats. */
interface StatementRow extends PickedRow {
  available_seats: number | null;
  largest_block: number | null;
  /** Whether the show's AVAILABLE seats, as this statement's snapshot saw them, could serve it. */
  servable: boolean | null;
  /** Whether it looked at every row of the show, or only at the front ones (nearSeats). */
  every_row: boolean | null;
  /** Whether holds of the show ran out (then nothing was picked). */
  lapsed: boolean;
}

/** The statement's parameters: `adjacent` as 1 or 0 (SQL compares it). */
type PickParameters = Omit<BestAvailableRequest, "adjacent" | "stamp"> &
  LogStamp & {
    seatCount: number;
    adjacent: number;
  };

/**
 * The CTE `chosen`: the seats of the block starting at `anchor` (row_index, first_number),
 * among the CTE `free`, row-locked FOR UPDATE SKIP LOCKED and re-checked AVAILABLE.
 */
const chosenBlock = (showId: unknown, seatCount: unknown) => sql`chosen as (
      select ss.seat_id from anchor
      join free f on f.row_index = anchor.row_index
        and f.seat_number between anchor.first_number and anchor.first_number + ${seatCount} - 1
      join show_seats ss on ss.show_id = ${showId} and ss.seat_id = f.seat_id
      where ss.status = 'AVAILABLE'
      for update of ss skip locked
    )`;

/**
 * Picks and holds the best free seats of a show in one statement, its own transaction.
 *
 * "Best": every seat of the show has a place in one order: by the layout's `rank` (lower
 * first, unranked seats after ranked ones), then front rows first (rows in layout order), then
 * nearest the row's centre (the midpoint of its lowest and highest seat numbers), then the
 * lower seat number. Without `adjacent` the best seats are the first AVAILABLE ones in that
 * order. With it, a block is `quantity` consecutive seat numbers of one row, all AVAILABLE;
 * blocks are ordered by the sum of their ranks (blocks with an unranked seat after fully
 * ranked ones), then by the sum of their places, then by their first seat's place.
 *
 * Concurrency: the choice is made from the statement's snapshot without locks, then locked with
 * FOR UPDATE SKIP LOCKED, so concurrent pickers pass each other's row locks instead of waiting
 * and never lock the same seat. Overlapping blocks would let two pickers each lock half of one:
 * so the candidates are disjoint. Each run of adjacent free seats is tiled into blocks aligned
 * on its best block (which is therefore always a candidate); the picker locks the first
 * candidate whose first seat nobody else has locked, then the block's other seats. If a
 * concurrent picker (whose snapshot saw other runs) holds one of them, nothing is written and
 * the outcome is `raced`: the caller runs the statement again, which sees the other commit.
 * The rows are re-checked under their locks (status = 'AVAILABLE') and the writes are the
 * exact hold's, with its per-user limit and guard (holdWrites).
 *
 * Holds of the show that ran out still lock seats that are free (the seat map shows them
 * so): while there are any, the statement picks nothing and says so, and the caller expires
 * them first.
 */
const pickStatement = new Statement<PickParameters, StatementRow>((parameters) => {
  const { showId, seatCount, adjacent } = parameters;
  // Why nothing was held is read only when nothing was: the subqueries are then not run.
  const refused = sql`booking.booking_id is null`;
  return sql`with lapsed_holds as (
      select exists (select 1 from bookings where show_id = ${showId} and status = 'PENDING'
        and expires_at <= now()) as found
    ), show_seat_rows as (
      select ss.seat_id, ss.status::text as status, s.seat_row, s.seat_number, s.rank
      from show_seats ss join seats s on s.seat_id = ss.seat_id
      where ss.show_id = ${showId}
    ), row_totals as (
      select seat_row, min(seat_number) + max(seat_number) as ends,
        count(*) filter (where status = 'AVAILABLE') as free_seats,
        bool_or(rank is not null) as ranked
      from show_seat_rows group by seat_row
    ), layout_rows as (
      select seat_row, ends, bool_or(ranked) over () as ranked_layout,
        row_number() over rows_in_order as row_index,
        coalesce(sum(free_seats) over (rows_in_order
          rows between unbounded preceding and 1 preceding), 0) as free_before
      from row_totals
      window rows_in_order as (order by length(seat_row), seat_row)
    ), near_rows as (
      select * from layout_rows where ranked_layout or free_before < ${parameters.nearSeats}
    ), placed as (
      select ssr.*, r.row_index, row_number() over (order by ssr.rank nulls last, r.row_index,
          abs(2 * ssr.seat_number - r.ends), ssr.seat_number) as place
      from show_seat_rows ssr join near_rows r on r.seat_row = ssr.seat_row
      where not (select found from lapsed_holds)
    ), free as (
      select seat_id, row_index, seat_number, rank, place,
        seat_number - row_number() over (partition by row_index order by seat_number) as run
      from placed where status = 'AVAILABLE'
    ), windows as (
      select seat_id, row_index, run, seat_number as first_number, place as first_place,
        count(*) over block as size, sum(place) over block as place_sum,
        case when count(rank) over block = ${seatCount} then sum(rank) over block end as rank_sum
      from free
      window block as (partition by row_index, run order by seat_number
        rows between current row and ${seatCount} - 1 following)
    ), fitting as (
      select *, first_value(first_number) over (partition by row_index, run
          order by rank_sum nulls last, place_sum, first_place) as best_first
      from windows where size = ${seatCount}
    ), candidates as (
      select seat_id, row_index, first_number, rank_sum, place_sum, first_place from fitting
      where (first_number - best_first) % ${seatCount} = 0
    ), anchor as (
      select c.row_index, c.first_number from candidates c
      join show_seats ss on ss.show_id = ${showId} and ss.seat_id = c.seat_id
      where ${adjacent} = 1 and ss.status = 'AVAILABLE'
      order by c.rank_sum nulls last, c.place_sum, c.first_place
      limit 1
      for update of ss skip locked
    ), ${chosenBlock(showId, seatCount)}, scattered as (
      select ss.seat_id from free f
      join show_seats ss on ss.show_id = ${showId} and ss.seat_id = f.seat_id
      where ${adjacent} = 0 and ss.status = 'AVAILABLE'
      order by f.place
      limit ${seatCount}
      for update of ss skip locked
    ), picked as (
      select p.seat_id, s.seat_row, s.seat_number
      from (select seat_id from chosen union all select seat_id from scattered) p
      join seats s on s.seat_id = p.seat_id
    ), ${holdWrites(parameters, {
      ready: sql`(select count(*) from picked) = ${seatCount}`,
      seats: sql.raw("picked"),
      heldSeats: sql`ss.seat_id in (select seat_id from picked)`,
    })}
    select
      (select json_agg(picked order by seat_id) from picked) as seats,
      (select count(*)::int from picked) as locked_seats,
      booking.booking_id, booking.amount_cents, booking.expires_at,
      (select seats_held from allowance) as seats_held,
      case when ${refused} then (select count(*)::int from free) end as available_seats,
      case when ${refused} then (select coalesce(max(length), 0)::int
        from (select count(*) as length from free group by row_index, run) runs)
      end as largest_block,
      case when not ${refused} then null
        when ${adjacent} = 1 then exists (select 1 from candidates)
        else (select count(*) from free) >= ${seatCount} end as servable,
      case when ${refused} then (select count(*) from near_rows) = (select count(*) from layout_rows)
      end as every_row,
      (select found from lapsed_holds) as lapsed,
      ${holdGuard(seatCount)}
    from (select 1) as one left join booking on true`;
});

/** The hold a pick made, or why it wrote nothing although it locked every seat it chose. */
function heldOrRefused(
  request: BestAvailableRequest,
  row: PickedRow,
): Held | { kind: "over_limit"; remaining: number } | { kind: "not_on_sale" } | undefined {
  const held = heldBooking(row, row.seats ?? []);
  if (held) return held;
  if (row.locked_seats !== request.quantity) return undefined;
  const seatsHeld = row.seats_held ?? 0;
  if (seatsHeld + request.quantity > request.seatLimit) {
    return { kind: "over_limit", remaining: Math.max(request.seatLimit - seatsHeld, 0) };
  }
  return { kind: "not_on_sale" };
}

function interpret(request: BestAvailableRequest, row: StatementRow): BestAvailableOutcome {
  const decided = heldOrRefused(request, row);
  if (decided) return decided;
  if (row.lapsed) return { kind: "lapsed" };
  if (row.servable) return { kind: "raced" };
  if (!row.every_row) return { kind: "look_further" };
  return {
    kind: "not_enough",
    availableSeats: row.available_seats ?? 0,
    largestBlock: row.largest_block ?? 0,
  };
}

export type RowPickOutcome =
  | Exclude<BestAvailableOutcome, { kind: "look_further" }>
  /**
   * The layout has ranks, or no row's hint says a block fits although one exists (hints
   * below the truth): the statement that ranks every seat picks.
   */
  | { kind: "every_seat" };

interface RowPickRow extends PickedRow {
  /** What pick_adjacent_seats answered: picked, raced, no_row_fits or every_seat. */
  outcome: string;
  /** The show's seats once no row fitted: null unless the outcome is no_row_fits. */
  available_seats: number | null;
  largest_block: number | null;
  /**
   * Holds of the show that ran out (at most 50), found before any row was read: then the
   * outcome is no_row_fits and nothing else is set (the release before this one expires
   * these and picks again, as this one does).
   */
  lapsed_booking_ids: number[] | null;
}

type RowPickParameters = Omit<BestAvailableRequest, "adjacent" | "stamp" | "nearSeats"> &
  LogStamp & { seatCount: number };

/**
 * The pick of an unranked layout, adjacent seats, reading a row at a time: the function
 * pick_adjacent_seats (migrations 0016, 0018) locks the first row whose hint says a block
 * may fit with FOR UPDATE SKIP LOCKED, reads its seats under that lock, and row-locks the best
 * block of the first row that has one; concurrent pickers thus take different rows, never wait for
 * each other, and never choose the same seats. This statement then runs the exact hold's
 * writes on the block and writes the row's hint: its longest run of AVAILABLE seats left,
 * without the block if it was held.
 *
 * Holds of the show that ran out lock seats that are free: the function first asks for them
 * and, if there are any, picks nothing, so that they expire first. When no row may fit, it
 * also says why, as a refusal must (the show's AVAILABLE seats and their longest run), seen
 * after it found no row: a refusal costs one round trip, as a hold does (in a busy sale each
 * round trip waits its turn for a pooled connection).
 */
const rowPickStatement = new Statement<RowPickParameters, RowPickRow>((parameters) => {
  const { showId, seatCount } = parameters;
  return sql`with pick as (
      select * from pick_adjacent_seats(${showId}, ${seatCount})
    ), picked as (
      select block.seat_id, pick.seat_row, block.seat_number
      from pick, unnest(pick.seat_ids, pick.seat_numbers) as block(seat_id, seat_number)
    ), ${holdWrites(parameters, {
      ready: sql`(select count(*) from picked) = ${seatCount}`,
      seats: sql.raw("picked"),
      heldSeats: sql`ss.seat_id in (select seat_id from picked)`,
    })}, hinted as (
      update show_rows r set largest_free_hint = case when exists (select 1 from held)
          then (select longest_if_held from pick) else (select longest_if_not from pick) end
      where r.show_id = ${showId} and r.seat_row = (select seat_row from pick)
    )
    select
      (select json_agg(picked order by seat_id) from picked) as seats,
      (select count(*)::int from picked) as locked_seats,
      booking.booking_id, booking.amount_cents, booking.expires_at,
      (select seats_held from allowance) as seats_held,
      pick.outcome, pick.available_seats, pick.largest_block, pick.lapsed_booking_ids,
      ${holdGuard(seatCount)}
    from pick left join booking on true`;
});

/** Why no row fit, as the full statement would say it, or that a block exists after all. */
function whyNoRowFits(request: BestAvailableRequest, row: RowPickRow): RowPickOutcome {
  const largestBlock = row.largest_block ?? 0;
  if (largestBlock >= request.quantity) return { kind: "every_seat" };
  return { kind: "not_enough", availableSeats: row.available_seats ?? 0, largestBlock };
}

function interpretRowPick(request: BestAvailableRequest, row: RowPickRow): RowPickOutcome {
  const decided = heldOrRefused(request, row);
  if (decided) return decided;
  if (row.lapsed_booking_ids?.length) return { kind: "lapsed" };
  switch (row.outcome) {
    case "every_seat":
      return { kind: "every_seat" };
    case "no_row_fits":
      return whyNoRowFits(request, row);
    // Every row that may fit is being read by other pickers: they commit within a
    // statement's time.
    case "raced":
      return { kind: "raced" };
    default:
      throw new Error(`the row-wise pick answered ${row.outcome} without holding`);
  }
}

/**
 * Runs the row-wise pick once on `db` (unranked layouts, adjacent seats) and says what
 * happened.
 */
export async function runRowPickStatement(
  db: Queryable,
  request: BestAvailableRequest,
): Promise<RowPickOutcome> {
  const { stamp, adjacent: _adjacent, nearSeats: _nearSeats, ...pick } = request;
  let rows: RowPickRow[];
  try {
    rows = await rowPickStatement.rows(db, { ...pick, ...stamp, seatCount: request.quantity });
  } catch (error) {
    // The function chose seats freed after this statement's snapshot was taken, which the
    // hold's guarded update (on that snapshot) skipped: nothing was written. The next pick's
    // snapshot sees them; it goes as a lost race, with the request's own pacing and bound.
    if (isSeatRowsChanged(error)) return { kind: "raced" };
    throw error;
  }
  const [row] = rows;
  if (!row) throw new Error("the row-wise pick returned no row");
  return interpretRowPick(request, row);
}

/** Runs the best-available statement once on `db` and says what happened. */
export async function runBestAvailableStatement(
  db: Queryable,
  request: BestAvailableRequest,
): Promise<BestAvailableOutcome> {
  const { stamp, ...pick } = request;
  const [row] = await pickStatement.rows(db, {
    ...pick,
    ...stamp,
    seatCount: request.quantity,
    adjacent: request.adjacent ? 1 : 0,
  });
  if (!row) throw new Error("the best-available statement returned no row");
  return interpret(request, row);
}

/** A row's hint that says it may hold a block of any size: the insert trigger's too. */
const ANY_BLOCK_HINT = 2_147_483_647;

/**
 * Folds the release notes of rows that no pick is reading into those rows' hints: each such
 * row is locked FOR UPDATE SKIP LOCKED (a pick reading it keeps its notes, and clears them
 * itself), its hint raised to "may hold any block", and the notes this snapshot saw
 * deleted; notes naming a row the show has not (a seat of a venue the show left) go too. A
 * pick reads a noted row and a row with that hint alike, so no block is hidden; without this,
 * notes of rows no pick reads (a show sold by exact holds) would pile up, one per release, and
 * every pick of the show reads them all. Waits for no lock: releases only insert notes.
 * Answers how many notes it deleted.
 */
export async function foldRowReleases(db: Queryable): Promise<number> {
  const [row] = await execRows<{ folded: number }>(
    db,
    sql`with noted as (
        select distinct rr.show_id, s.seat_row from show_row_releases rr
        join seats s on s.seat_id = rr.seat_id
      ), locked as (
        select r.show_id, r.seat_row from show_rows r
        where (r.show_id, r.seat_row) in (select show_id, seat_row from noted)
        for update of r skip locked
      ), raised as (
        update show_rows r set largest_free_hint = ${sql.raw(String(ANY_BLOCK_HINT))}
        from locked l where r.show_id = l.show_id and r.seat_row = l.seat_row
        returning 1
      ), folded as (
        delete from show_row_releases rr using seats s
        where s.seat_id = rr.seat_id and (
          (rr.show_id, s.seat_row) in (select show_id, seat_row from locked)
          or not exists (select 1 from show_rows r
            where r.show_id = rr.show_id and r.seat_row = s.seat_row))
        returning 1
      )
      select (select count(*)::int from folded) as folded`,
  );
  return row?.folded ?? 0;
}
