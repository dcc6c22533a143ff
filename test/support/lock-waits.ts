import type postgres from "postgres";
import { waitUntil } from "./processes";

/** Until `count` backends of the test's database wait for a lock, as seen from `session`. */
export const backendsWaiting = (session: postgres.Sql, count: number, who: string) =>
  waitUntil(
    async () => {
      const [waiting] = await session`select count(*)::int as count from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`;
      return waiting?.count === count;
    },
    () => `${who} never waited for a lock`,
  );
