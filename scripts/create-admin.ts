import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../src/boot";
import { composeApi } from "../src/compose/api";
import { validationDetails } from "../src/lib/openapi";
import { AccountFields } from "../src/modules/auth/routes";

const usage = `usage: bun run admin:create --email admin@example.com --password '...' [--name Ada]

Makes the account an admin. An existing account with that email becomes an admin and its
password is replaced by this one; every token issued to it before stops working.`;

function exitWith(problem: string): never {
  console.error(`${problem}\n\n${usage}`);
  process.exit(1);
}

/** The account the arguments describe, checked by registration's own rules. */
function argumentsOrExit() {
  let values: { email?: string; password?: string; name?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        email: { type: "string" },
        password: { type: "string" },
        name: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    exitWith(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const { help: _, ...account } = values;
  const checked = AccountFields.safeParse(account);
  if (!checked.success) {
    exitWith(
      Object.entries(validationDetails(checked.error))
        .map(([field, message]) => `--${field}: ${message}`)
        .join("\n"),
    );
  }
  return checked.data;
}

const admin = argumentsOrExit();
const api = await composeApi({ ...loadConfigOrExit(), SEED_DEMO_DATA: false });
const ready = await api.services.auth.ensureAdmin(admin);
console.log(`Admin ready: ${ready.email} (user_id ${ready.user_id})`);
await api.close();
