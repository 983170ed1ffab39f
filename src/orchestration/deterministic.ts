import { createHash } from "node:crypto";

/**
 * Values an orchestration may use that are the same on every replay: GUIDs and random
 * numbers derived from the instance, its execution and a call counter.
 */
export class DeterministicSource {
  private guidCount = 0;
  /** Seeded on first use: most orchestrations never ask, and each instance makes two sources. */
  private state: Uint32Array | undefined;

  constructor(private readonly seed: string) {}

  /** A version-5-style UUID, unique per instance execution and call. */
  newGuid(): string {
    const bytes = createHash("sha1")
      .update(`guid:${this.seed}:${this.guidCount++}`)
      .digest()
      .subarray(0, 16);
    bytes[6] = ((bytes[6] as number) & 0x0f) | 0x50;
    bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
    const hex = bytes.toString("hex");
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  /** A number in [0, 1), from the sfc32 generator seeded by the instance. */
  random(): number {
    this.state ??= seedState(this.seed);
    const s = this.state;
    const a = s[0] as number;
    const b = s[1] as number;
    const c = s[2] as number;
    const d = s[3] as number;
    const t = (((a + b) >>> 0) + d) >>> 0;
    s[3] = (d + 1) >>> 0;
    s[0] = b ^ (b >>> 9);
    s[1] = (c + (c << 3)) >>> 0;
    s[2] = (((c << 21) | (c >>> 11)) + t) >>> 0;
    return t / 4294967296;
  }
}

/** The generator's starting state: the first 16 bytes of a SHA-256 of the seed. */
function seedState(seed: string): Uint32Array {
  const digest = createHash("sha256").update(`random:${seed}`).digest();
  return new Uint32Array([
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  ]);
}
