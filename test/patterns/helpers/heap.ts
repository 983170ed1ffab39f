import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

let collect: (() => void) | undefined;

/**
 * The heap in use after a full garbage collection. Vitest's config does not pass
 * --expose-gc, so the flag is set at run time and `gc` is taken from a fresh context,
 * where V8 installs it once the flag is on.
 */
export function heapAfterGc(): number {
  if (!collect) {
    setFlagsFromString("--expose-gc");
    collect = runInNewContext("gc") as () => void;
  }
  // Twice: the first pass can leave garbage that only a second one frees (weak refs, finalisers).
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}
