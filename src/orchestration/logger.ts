/** Where Perdure and orchestration code write log lines. Compatible with `console` and pino. */
export interface Logger {
  debug(message: string, ...args: unknown[]): void;
  info(message: string, ...args: unknown[]): void;
  warn(message: string, ...args: unknown[]): void;
  error(message: string, ...args: unknown[]): void;
}

/** A logger that writes nothing. */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * A logger for orchestration code: it drops lines while the orchestration replays, so that
 * each line appears once however often the code is replayed.
 */
export function replaySafeLogger(base: Logger, isReplaying: () => boolean, prefix: string): Logger {
  const wrap =
    (level: keyof Logger) =>
    (message: string, ...args: unknown[]): void => {
      if (!isReplaying()) base[level](`${prefix} ${message}`, ...args);
    };
  return { debug: wrap("debug"), info: wrap("info"), warn: wrap("warn"), error: wrap("error") };
}
