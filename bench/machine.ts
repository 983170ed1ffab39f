import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { arch, availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";
import { join } from "node:path";

/** What the figures were measured on; benchmark numbers mean nothing without it. */
export interface MachineFacts {
  date: string;
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  node: string;
  os: string;
  /** Where the stores' temporary files live: fsync cost depends on this disk. */
  tempDir: string;
  /** 1-minute load average when the run started: other work on the machine skews every figure. */
  loadAverage: number;
  /**
   * What one small positioned write to a file costs, in microseconds: SQLite makes two for
   * every page it appends to the WAL, so on a machine where system calls are dear (a virtual
   * machine) the pages a commit writes cost CPU even when its fsync does not grow with them.
   */
  writeCallMicros: number;
}

/** Reads the facts of the machine this process runs on. */
export function machineFacts(): MachineFacts {
  return {
    date: new Date().toISOString(),
    cpuModel: cpus()[0]?.model.trim() ?? "unknown",
    cores: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    os: `${type()} ${release()} ${arch()}`,
    tempDir: tmpdir(),
    loadAverage: Math.round((loadavg()[0] ?? 0) * 100) / 100,
    writeCallMicros: writeCallMicros(),
  };
}

/** The median of 5 runs of 10,000 24-byte `pwrite`s (a WAL frame header's size), without fsync. */
function writeCallMicros(): number {
  const file = join(tmpdir(), `perdure-bench-write-${process.pid}`);
  const fd = openSync(file, "w");
  try {
    const header = Buffer.alloc(24);
    const runs: number[] = [];
    for (let run = 0; run < 5; run++) {
      const calls = 10_000;
      const started = performance.now();
      for (let i = 0; i < calls; i++) writeSync(fd, header, 0, header.length, (i % 1_000) * 4_120);
      runs.push(((performance.now() - started) * 1_000) / calls);
    }
    runs.sort((a, b) => a - b);
    return Math.round((runs[2] ?? 0) * 100) / 100;
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
}
