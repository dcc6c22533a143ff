export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";

const ranks: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** One JSON object per line on stdout: what log collectors parse without configuration. */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  const write =
    (at: Exclude<LogLevel, "silent">) => (message: string, fields?: Record<string, unknown>) => {
      if (ranks[at] < ranks[level]) return;
      const line = JSON.stringify({
        time: new Date().toISOString(),
        level: at,
        msg: message,
        ...base,
        ...fields,
      });
      if (at === "error" || at === "warn") console.error(line);
      else console.log(line);
    };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
