import { type Config, ConfigError, loadConfig } from "./config";

/** Loads the config or stops the process with the list of what is wrong. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}
