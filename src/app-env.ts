import type { Services } from "./services";

/** The authenticated caller, as loaded from the database on each request. */
export interface AuthUser {
  user_id: number;
  email: string;
  name: string | null;
  role: "user" | "admin";
}

export type AppEnv = {
  Variables: {
    services: Services;
    requestId: string;
    user: AuthUser;
  };
};
