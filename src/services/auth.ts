import { eq, sql } from "drizzle-orm";
import { sign, verify } from "hono/jwt";
import type { AuthUser } from "../app-env";
import { type Database, execRows } from "../db/client";
import { users } from "../db/schema";
import type { PasswordHasher } from "../infra/password-hasher";
import { AppError } from "../lib/errors";
import { hmacKey } from "../lib/jwt-key";

export interface AuthSettings {
  jwtSecret: string;
  jwtTtlSeconds: number;
}

export interface Credentials {
  email: string;
  password: string;
}

export interface Session {
  token: string;
  user: AuthUser;
}

const unauthenticated = (message = "Authentication required") =>
  new AppError(401, "UNAUTHENTICATED", message);
const invalidCredentials = () =>
  new AppError(401, "INVALID_CREDENTIALS", "Invalid email or password");

const publicUser = (row: typeof users.$inferSelect): AuthUser => ({
  user_id: row.user_id,
  email: row.email,
  name: row.name,
  role: row.role,
});

export const normaliseEmail = (email: string) => email.trim().toLowerCase();

export class AuthService {
  /** Compared against when the email is unknown, so both failures cost one bcrypt compare. */
  private decoyHash?: Promise<string>;

  constructor(
    private readonly db: Database,
    private readonly passwords: PasswordHasher,
    private readonly settings: AuthSettings,
  ) {}

  hashPassword(password: string): Promise<string> {
    return this.passwords.hash(password);
  }

  async register(input: Credentials & { name?: string }): Promise<Session> {
    const passwordHash = await this.hashPassword(input.password);
    const [row] = await this.db
      .insert(users)
      .values({
        email: normaliseEmail(input.email),
        name: input.name ?? null,
        password_hash: passwordHash,
      })
      .onConflictDoNothing({ target: users.email })
      .returning();
    if (!row) throw new AppError(409, "EMAIL_TAKEN", "An account with this email already exists");
    return this.issueSession(row);
  }

  async login(input: Credentials): Promise<Session> {
    const [row] = await this.db
      .select()
      .from(users)
      .where(eq(users.email, normaliseEmail(input.email)));
    this.decoyHash ??= this.passwords.hash("decoy password nobody has");
    const matches = await this.passwords.verify(
      input.password,
      row?.password_hash ?? (await this.decoyHash),
    );
    if (!row || !matches) throw invalidCredentials();
    return this.issueSession(row);
  }

  /** Verifies the token and that its user still exists with the same token version. */
  async authenticate(token: string): Promise<AuthUser> {
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token, await hmacKey(this.settings.jwtSecret), "HS256");
    } catch {
      // hono/jwt throws one error class per reason; to the client they are all the same 401.
      throw unauthenticated("Invalid or expired token");
    }
    const userId = payload.sub;
    const version = payload.ver;
    if (typeof userId !== "number" || typeof version !== "number") {
      throw unauthenticated("Invalid or expired token");
    }
    // Every authenticated request runs this: one prepared primary-key read.
    const [row] = await execRows<AuthUser & { token_version: number }>(
      this.db,
      sql`select user_id, email, name, role, token_version from users where user_id = ${userId}`,
    );
    if (!row || row.token_version !== version) throw unauthenticated("Token has been revoked");
    return { user_id: row.user_id, email: row.email, name: row.name, role: row.role };
  }

  /** Revokes every token issued to the user so far. */
  async logout(userId: number): Promise<void> {
    await this.db
      .update(users)
      .set({ token_version: sql`${users.token_version} + 1` })
      .where(eq(users.user_id, userId));
  }

  /**
   * Creates the admin or, if the email exists, makes it an admin with this password.
   * Idempotent, so it can run at every start.
   */
  async ensureAdmin(input: Credentials & { name?: string }): Promise<AuthUser> {
    const passwordHash = await this.hashPassword(input.password);
    const [row] = await this.db
      .insert(users)
      .values({
        email: normaliseEmail(input.email),
        name: input.name ?? "Administrator",
        password_hash: passwordHash,
        role: "admin",
      })
      .onConflictDoUpdate({
        target: users.email,
        set: { role: "admin", password_hash: passwordHash },
      })
      .returning();
    if (!row) throw new Error("admin upsert returned no row");
    return publicUser(row);
  }

  private async issueSession(row: typeof users.$inferSelect): Promise<Session> {
    const now = Math.floor(Date.now() / 1000);
    const token = await sign(
      {
        sub: row.user_id,
        ver: row.token_version,
        role: row.role,
        iat: now,
        exp: now + this.settings.jwtTtlSeconds,
      },
      await hmacKey(this.settings.jwtSecret),
      "HS256",
    );
    return { token, user: publicUser(row) };
  }
}
