import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../src/boot";
import { startRuntime } from "../src/runtime";

const usage = `usage: bun run admin:create --email admin@example.com --password '...' [--name Ada]

Makes the account an admin. An existing account with that email becomes an admin and its
password is replaced by this one.`;

function problemWith(values: { email?: string; password?: string }): string | undefined {
  if (!values.email) return "--email is required";
  if (!values.password) return "--password is required";
  if (values.password.length < 8 || values.password.length > 128) {
    return "--password must be 8 to 128 characters";
  }
  return undefined;
}

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
    console.error(`${error instanceof Error ? error.message : error}\n\n${usage}`);
    process.exit(1);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  const problem = problemWith(values);
  if (problem) {
    console.error(`${problem}\n\n${usage}`);
    process.exit(1);
  }
  return { email: values.email as string, password: values.password as string, name: values.name };
}

const admin = argumentsOrExit();
const runtime = await startRuntime({ ...loadConfigOrExit(), SEED_DEMO_DATA: false });
const ready = await runtime.services.auth.ensureAdmin(admin);
console.log(`Admin ready: ${ready.email} (user_id ${ready.user_id})`);
await runtime.close();
