import type { Config } from "../config";
import type { Database } from "../db/client";
import { AdminService, type CancelShowBookings } from "./admin";
import { AuthService } from "./auth";
import { CatalogService } from "./catalog";
import type { HealthCheck } from "./health";

export interface Services {
  config: Config;
  db: Database;
  auth: AuthService;
  catalog: CatalogService;
  admin: AdminService;
  health: HealthCheck;
}

export interface ServiceDependencies {
  config: Config;
  db: Database;
  health: HealthCheck;
  cancelShowBookings: CancelShowBookings;
}

export function createServices(deps: ServiceDependencies): Services {
  return {
    config: deps.config,
    db: deps.db,
    auth: new AuthService(deps.db, {
      jwtSecret: deps.config.JWT_SECRET,
      jwtTtlSeconds: deps.config.JWT_TTL_SECONDS,
      bcryptCost: deps.config.BCRYPT_COST,
    }),
    catalog: new CatalogService(deps.db),
    admin: new AdminService(deps.db, deps.cancelShowBookings),
    health: deps.health,
  };
}
