import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Driven } from "./drive.js";
import { IpcChild, type Target } from "./target.js";

/**
 * DBOS Transact lives in bench/peers, a package of its own, so that it never becomes a
 * dependency of Perdure. Installs it from its lock file when node_modules is missing.
 */
export function ensurePeersInstalled(repoRoot: string): string {
  const peers = join(repoRoot, "bench", "peers");
  if (!existsSync(join(peers, "node_modules", "@dbos-inc", "dbos-sdk", "package.json"))) {
    process.stderr.write("installing DBOS Transact into bench/peers (npm install --prefix bench/peers)\n");
    // --ignore-scripts: nothing in it needs an install script, and nothing may download binaries.
    execFileSync("npm", ["install", "--prefix", peers, "--no-audit", "--no-fund", "--ignore-scripts"], {
      stdio: "inherit",
    });
  }
  return peers;
}

/** DBOS in a child process of its own (it is a process-wide singleton), on the bench database. */
export async function dbosTarget(peers: string, url: string): Promise<Target> {
  // Plain JavaScript, run without the bench's own loader flags.
  const child = await IpcChild.start(join(peers, "dbosChain.mjs"), [url], []);
  return {
    drive: async (inFlight, total, firstInput) =>
      (await child.request({ cmd: "drive", inFlight, total, firstInput }))["driven"] as Driven,
    childCpuMs: async () => Number((await child.request({ cmd: "cpu" }))["cpuMs"]),
    close: () => child.stop(),
  };
}
