const SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * On SIGINT/SIGTERM, runs `stop` once, then lets the signal do what it would have done
 * without us (end the process) unless the application has handlers of its own.
 * Returns the function that removes the handlers.
 */
export function stopOnSignals(stop: () => Promise<void>): () => void {
  const handler = (signal: NodeJS.Signals): void => {
    remove();
    stop().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const remove = (): void => {
    for (const signal of SIGNALS) process.off(signal, handler);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return remove;
}
