import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/**
 * `global.gc` without asking the user for `node --expose-gc`: scenarios start from a
 * collected heap, so their memory figures owe less to what ran before them.
 */
export function exposeGc(): () => void {
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
