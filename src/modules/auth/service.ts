import { sign, verify } from "hono/jwt";
import type { Database } from "../../db/client";
import { perTurnLookup } from "../../db/per-turn-lookup";
import type { PasswordHasher } from "../../infra/password-hasher";
import { AppError } from "../../lib/errors";
import { MAX_ID } from "../../lib/ids";
import { hmacKey } from "../../lib/jwt-key";
import type { LoginThrottle } from "./login-throttle";
import {
  accountByEmail,
  accountsByEmail,
  bumpTokenVersion,
  currentUsers,
  insertUser,
  lockAdminEnsure,
  type UserRow,
  upsertAdmin,
} from "./queries";
import type { UserView } from "./schemas";

/** The authenticated caller, as loaded from the database on each request. */
export type AuthUser = UserView;

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
  new AppError("UNAUTHENTICATED", { message });
const invalidCredentials = () => new AppError("INVALID_CREDENTIALS");

const publicUser = (row: AuthUser): AuthUser => ({
  user_id: row.user_id,
  email: row.email,
  name: row.name,
  role: row.role,
});

const isUserId = (value: unknown): value is number =>
  Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_ID;

const isTokenVersion = (value: unknown): value is number => Number.isSafeInteger(value);

const isExpiry = (value: unknown): value is number => typeof value === "number" && value > 0;

const normaliseEmail = (email: string) => email.trim().toLowerCase();

interface VerifiedClaims {
  sub: number;
  ver: number;
  /** Seconds since the epoch. */
  exp: number;
}

/** About 2 MB of tokens: every active user of a big sale. */
const VERIFIED_TOKENS_KEPT = 10_000;

export class AuthService {
  private readonly verifiedTokens = new Map<string, VerifiedClaims>();
  /** Every authenticated request reads its user, so logout and deletion act at once. */
  private readonly currentUsers = perTurnLookup(
    (userIds: number[]) => currentUsers(this.db, userIds),
    (row) => row.user_id,
  );
  /** A login storm's accounts: a few queries instead of one per login. */
  private readonly accountsByEmail = perTurnLookup(
    (emails: string[]) => accountsByEmail(this.db, emails),
    (row) => row.email,
  );
  /** Compared against when the email is unknown, so both failures cost one bcrypt compare. */
  private decoyHash?: Promise<string>;

  constructor(
    private readonly db: Database,
    private readonly passwords: PasswordHasher,
    private readonly settings: AuthSettings,
    /** Absent when rate limits are off. */
    private readonly loginThrottle?: LoginThrottle,
  ) {}

  hashPassword(password: string): Promise<string> {
    return this.passwords.hash(password);
  }

  async register(input: Credentials & { name?: string }): Promise<Session> {
    const passwordHash = await this.hashPassword(input.password);
    const row = await insertUser(this.db, {
      email: normaliseEmail(input.email),
      name: input.name ?? null,
      passwordHash,
    });
    if (!row) throw new AppError("EMAIL_TAKEN");
    return this.issueSession(row);
  }

  async login(input: Credentials): Promise<Session> {
    const email = normaliseEmail(input.email);
    await this.loginThrottle?.attempt(email);
    let session: Session;
    try {
      session = await this.checkCredentials(email, input.password);
    } catch (error) {
      const wrongPassword = error instanceof AppError && error.code === "INVALID_CREDENTIALS";
      if (!wrongPassword) await this.loginThrottle?.undecided(email);
      throw error;
    }
    await this.loginThrottle?.succeeded(email);
    return session;
  }

  private async checkCredentials(email: string, password: string): Promise<Session> {
    this.passwords.refuseWhenFull();
    const row = await this.accountsByEmail.load(email);
    this.decoyHash ??= this.startDecoyHash();
    const matches = await this.passwords.verify(
      password,
      row?.password_hash ?? (await this.decoyHash),
    );
    if (!row || !matches) throw invalidCredentials();
    return this.issueSession(row);
  }

  /**
   * Started at the first login, whoever logs in, so no unknown email ever waits for it. Only
   * unknown emails await it: a process that closes before the hash is done rejects it with
   * no login to hear it, so the rejection is handled here (awaiting it still throws), and a
   * failed hash is forgotten so that the next login starts another.
   */
  private startDecoyHash(): Promise<string> {
    const hash = this.passwords.hash("decoy password nobody has");
    hash.catch(() => {
      if (this.decoyHash === hash) this.decoyHash = undefined;
    });
    return hash;
  }

  /** Verifies the token and that its user still exists with the same token version. */
  async authenticate(token: string): Promise<AuthUser> {
    const { sub: userId, ver: version } = await this.verifiedClaims(token);
    const row = await this.currentUsers.load(userId);
    if (!row || row.token_version !== version) throw unauthenticated("Token has been revoked");
    return { user_id: row.user_id, email: row.email, name: row.name, role: row.role };
  }

  /**
   * The claims of a token whose signature checks out. A client sends the same token with every
   * request, and the HMAC was a noticeable share of a refused hold's CPU: a token verified once
   * is remembered (by its exact text) until it expires. Revocation is not affected: the token
   * version is read from the database on every request.
   */
  private async verifiedClaims(token: string): Promise<VerifiedClaims> {
    const known = this.verifiedTokens.get(token);
    if (known && known.exp > Date.now() / 1000) return known;
    if (known) this.verifiedTokens.delete(token);
    let payload: Record<string, unknown>;
    try {
      payload = await verify(token, await hmacKey(this.settings.jwtSecret), "HS256");
    } catch {
      // hono/jwt throws one error class per reason; to the client they are all the same 401.
      throw unauthenticated("Invalid or expired token");
    }
    const { sub, ver, exp } = payload;
    // Only a signed token gets here, but a user id PostgreSQL cannot read would fail the
    // lookup it shares with other requests. hono/jwt checks exp only when it is present: a
    // token without one would never expire.
    if (!isUserId(sub) || !isTokenVersion(ver) || !isExpiry(exp)) {
      throw unauthenticated("Invalid or expired token");
    }
    const claims = { sub, ver, exp };
    this.verifiedTokens.set(token, claims);
    if (this.verifiedTokens.size > VERIFIED_TOKENS_KEPT) {
      this.verifiedTokens.delete(this.verifiedTokens.keys().next().value as string);
    }
    return claims;
  }

  /** Revokes every token issued to the user so far. */
  async logout(userId: number): Promise<void> {
    await bumpTokenVersion(this.db, userId);
  }

  /**
   * Makes the account an admin with this password. Ensures of one address run one at a time
   * (the API, the worker and `admin:create` may start together) and each decides under the
   * lock: an admin that already has this password is left alone; otherwise the role and
   * password are written and every earlier token is revoked (anyone may have registered it).
   */
  async ensureAdmin(input: Credentials & { name?: string }): Promise<AuthUser> {
    const email = normaliseEmail(input.email);
    // Hashed before the transaction, even when it turns out unneeded: a hash takes a password
    // thread for ~100 ms, which must not hold a pooled connection and the lock meanwhile.
    const passwordHash = await this.hashPassword(input.password);
    return this.db.transaction(async (tx) => {
      await lockAdminEnsure(tx, email);
      const existing = await accountByEmail(tx, email);
      if (
        existing?.role === "admin" &&
        (await this.passwords.verify(input.password, existing.password_hash))
      ) {
        return publicUser(existing);
      }
      const row = await upsertAdmin(tx, {
        email,
        name: input.name ?? "Administrator",
        passwordHash,
      });
      return publicUser(row);
    });
  }

  private async issueSession(row: UserRow): Promise<Session> {
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
