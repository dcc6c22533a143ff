import type { Services } from "./compose/facades";
import type { AuthUser } from "./modules/auth/service";

export type { AuthUser };

export type AppEnv = {
  Variables: {
    services: Services;
    requestId: string;
    user: AuthUser;
  };
};
