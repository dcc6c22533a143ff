import type { Services } from "./compose/facades";
import type { Logger } from "./lib/logger";
import type { AuthUser } from "./modules/auth/service";

export type { AuthUser };

/** How a caller is told apart for counting (rate limits, live stream shares). */
export interface CallerKeySettings {
  jwtSecret: string;
  trustedProxies: number;
}

export type AppEnv = {
  Variables: {
    /** The module facades: what handlers call. */
    services: Services;
    logger: Logger;
    callerKeySettings: CallerKeySettings;
    /** METRICS_TOKEN: /metrics needs it when set. */
    metricsToken?: string;
    requestId: string;
    user: AuthUser;
  };
};
