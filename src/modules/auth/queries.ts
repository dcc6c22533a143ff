import { eq, sql } from "drizzle-orm";
import { type Database, execRows, type Queryable, Statement } from "../../db/client";
import { users } from "../../db/schema";
import type { UserView } from "./schemas";

/** A user as authentication reads it: the public fields and the version tokens must carry. */
export type UserRow = UserView & { token_version: number };

export type AccountRow = UserRow & { password_hash: string };

/** Every authenticated request's user, read with the others of its event-loop turn. */
const currentUsersStatement = new Statement<{ userIds: number[] }, UserRow>(
  ({ userIds }) => sql`select user_id, email, name, role, token_version from users
    where user_id = any(${userIds}::int[])`,
);

export const currentUsers = (db: Database, userIds: number[]) =>
  currentUsersStatement.rows(db, { userIds });

/** The accounts of these (normalised) emails, password hashes included. */
export const accountsByEmail = (db: Database, emails: string[]) =>
  execRows<AccountRow>(
    db,
    sql`select user_id, email, name, role, token_version, password_hash from users
        where email = any(${sql.param(emails)}::text[])`,
  );

/** The new user, or undefined when the email is taken. */
export async function insertUser(
  db: Database,
  user: { email: string; name: string | null; passwordHash: string },
): Promise<UserRow | undefined> {
  const [row] = await db
    .insert(users)
    .values({ email: user.email, name: user.name, password_hash: user.passwordHash })
    .onConflictDoNothing({ target: users.email })
    .returning();
  return row;
}

/** Revokes every token issued to the user so far. */
export async function bumpTokenVersion(db: Database, userId: number): Promise<void> {
  await db
    .update(users)
    .set({ token_version: sql`${users.token_version} + 1` })
    .where(eq(users.user_id, userId));
}

/** First key of the advisory lock that serialises admin ensures of one address ("ADMN"). */
const ADMIN_ENSURE_LOCK_SPACE = 0x41444d4e;

/** Waits for any other ensure of this address to commit; held until this transaction ends. */
export async function lockAdminEnsure(tx: Queryable, email: string): Promise<void> {
  await execRows(
    tx,
    sql`select pg_advisory_xact_lock(${ADMIN_ENSURE_LOCK_SPACE}, hashtext(${email}))`,
  );
}

export async function accountByEmail(
  tx: Queryable,
  email: string,
): Promise<AccountRow | undefined> {
  const [row] = await tx.select().from(users).where(eq(users.email, email));
  return row;
}

/**
 * Creates the admin, or makes the existing account an admin with this password and revokes its
 * earlier tokens.
 */
export async function upsertAdmin(
  tx: Queryable,
  admin: { email: string; name: string; passwordHash: string },
): Promise<UserRow> {
  const [row] = await tx
    .insert(users)
    .values({
      email: admin.email,
      name: admin.name,
      password_hash: admin.passwordHash,
      role: "admin",
    })
    .onConflictDoUpdate({
      target: users.email,
      set: {
        role: "admin",
        password_hash: admin.passwordHash,
        token_version: sql`${users.token_version} + 1`,
      },
    })
    .returning();
  if (!row) throw new Error("admin upsert returned no row");
  return row;
}
