import { sign } from "hono/jwt";
import type { Sql } from "./databases";
import type { HttpClient } from "./http";

export interface BenchUser {
  user_id: number;
  email: string;
  token: string;
}

/** Every bench user has this password; S5 logs in with it. */
export const USER_PASSWORD = "bench-user-password";

/** By default tokens live JWT_TTL_SECONDS' default (1 h), far longer than a bench run. */
const TOKEN_TTL_SECONDS = 3600;

const emailOf = (runId: string, index: number) => `bench-${runId}-${index}@example.com`;

/**
 * Creates `count` users in one INSERT sharing one real bcrypt hash (cost 10, like
 * BCRYPT_COST's default) of USER_PASSWORD, and signs their tokens the way
 * src/modules/auth/service.ts issues them (HS256; sub, ver, role, iat, exp). Registering them
 * through /auth/register would cost one bcrypt hash each (minutes for 1,000); S5 still checks
 * real logins against the stored hash.
 */
export async function createUsersInSql(
  sql: Sql,
  runId: string,
  count: number,
  jwtSecret: string,
  { tokenTtlSeconds = TOKEN_TTL_SECONDS } = {},
): Promise<BenchUser[]> {
  const hash = await Bun.password.hash(USER_PASSWORD, { algorithm: "bcrypt", cost: 10 });
  const emails = Array.from({ length: count }, (_, index) => emailOf(runId, index));
  const rows = await sql<{ user_id: number; email: string; token_version: number; role: string }[]>`
    insert into users (email, name, password_hash)
    select email, 'Bench user', ${hash} from unnest(${emails}::text[]) as email
    returning user_id, email, token_version, role::text as role`;
  const byEmail = new Map(rows.map((row) => [row.email, row]));
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    emails.map(async (email) => {
      const row = byEmail.get(email);
      if (!row) throw new Error(`user ${email} was not created`);
      const token = await sign(
        {
          sub: row.user_id,
          ver: row.token_version,
          role: row.role,
          iat: now,
          exp: now + tokenTtlSeconds,
        },
        jwtSecret,
        "HS256",
      );
      return { user_id: row.user_id, email: row.email, token };
    }),
  );
}

/** The slow way, for a target whose database the bench cannot reach: /auth/register. */
export async function registerUsers(
  http: HttpClient,
  runId: string,
  count: number,
  concurrency = 8,
): Promise<BenchUser[]> {
  const users: BenchUser[] = new Array(count);
  let next = 0;
  const registerNext = async () => {
    for (let index = next++; index < count; index = next++) {
      const body = await http.expect<{ token: string; user: { user_id: number; email: string } }>(
        201,
        {
          path: "/api/v1/auth/register",
          json: { email: emailOf(runId, index), password: USER_PASSWORD },
        },
      );
      users[index] = { user_id: body.user.user_id, email: body.user.email, token: body.token };
    }
  };
  await Promise.all(Array.from({ length: concurrency }, registerNext));
  return users;
}
