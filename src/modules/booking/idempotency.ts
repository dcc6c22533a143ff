import { sql } from "drizzle-orm";
import { type Database, execRows } from "../../db/client";

export type IdempotencyState =
  | { kind: "new" }
  | { kind: "replay"; status: number; body: string }
  | { kind: "mismatch" }
  | { kind: "in_flight" };

interface StoredKey {
  request_hash: string;
  response_status: number | null;
  response_body: string | null;
  stale: boolean;
}

/** How long a first response is replayed. */
const RETENTION = sql`interval '24 hours'`;
/** A request that has not finished in this long crashed; its key may be taken over. */
const IN_FLIGHT_LIMIT = sql`interval '60 seconds'`;

const isStale = sql`(created_at < now() - ${RETENTION}
  or (response_status is null and created_at < now() - ${IN_FLIGHT_LIMIT}))`;

/** First responses of booking POSTs per (user, key), stored in PostgreSQL for every instance. */
export class IdempotencyStore {
  constructor(private readonly db: Database) {}

  async begin(userId: number, key: string, requestHash: string): Promise<IdempotencyState> {
    for (let attempt = 0; attempt < 2; attempt++) {
      const inserted = await execRows<{ key: string }>(
        this.db,
        sql`insert into idempotency_keys (user_id, key, request_hash)
            values (${userId}, ${key}, ${requestHash})
            on conflict do nothing returning key`,
      );
      if (inserted.length > 0) return { kind: "new" };
      const [stored] = await execRows<StoredKey>(
        this.db,
        sql`select request_hash, response_status, response_body, ${isStale} as stale
            from idempotency_keys where user_id = ${userId} and key = ${key}`,
      );
      if (!stored) continue; // finished and abandoned in between: try to take it again
      if (stored.stale) {
        // Only if still stale: a retry racing us may have taken the key over already.
        await this.db.execute(sql`delete from idempotency_keys
          where user_id = ${userId} and key = ${key} and ${isStale}`);
        continue;
      }
      if (stored.request_hash !== requestHash) return { kind: "mismatch" };
      if (stored.response_status === null || stored.response_body === null) {
        return { kind: "in_flight" };
      }
      return { kind: "replay", status: stored.response_status, body: stored.response_body };
    }
    return { kind: "in_flight" };
  }

  async complete(userId: number, key: string, status: number, body: string): Promise<void> {
    await this.db.execute(sql`update idempotency_keys
      set response_status = ${status}, response_body = ${body}
      where user_id = ${userId} and key = ${key}`);
  }

  /** Drops keys past their 24 hours (the cleanup job calls this); returns how many. */
  async purgeExpired(): Promise<number> {
    const purged = await execRows<{ key: string }>(
      this.db,
      sql`delete from idempotency_keys where created_at < now() - ${RETENTION} returning key`,
    );
    return purged.length;
  }

  /** Forgets the key so the request can be retried with it (409, 429 and 5xx are not stored). */
  async abandon(userId: number, key: string): Promise<void> {
    await this.db.execute(
      sql`delete from idempotency_keys where user_id = ${userId} and key = ${key}`,
    );
  }
}
