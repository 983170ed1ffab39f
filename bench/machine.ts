import { arch, availableParallelism, cpus, loadavg, release, tmpdir, totalmem, type } from "node:os";

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
  };
}
