import { parseArgs } from "node:util";
import { loadConfigOrExit } from "../src/boot";
import { startRuntime } from "../src/runtime";

const usage = "usage: bun run admin:create --email admin@example.com --password '...' [--name Ada]";
const { values } = parseArgs({
  options: { email: { type: "string" }, password: { type: "string" }, name: { type: "string" } },
});
if (!values.email || !values.password || values.password.length < 8) {
  console.error(usage);
  process.exit(1);
}

const runtime = await startRuntime({ ...loadConfigOrExit(), SEED_DEMO_DATA: false });
const admin = await runtime.services.auth.ensureAdmin({
  email: values.email,
  password: values.password,
  name: values.name,
});
console.log(`Admin ready: ${admin.email} (user_id ${admin.user_id})`);
await runtime.close();
