import type { Services } from "./services";
import type { AuthUser } from "./services/auth";

export type { AuthUser };

export type AppEnv = {
  Variables: {
    services: Services;
    requestId: string;
    user: AuthUser;
  };
};
