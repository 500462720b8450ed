/**
 * Log-bucketed latency histogram in microseconds (~1.1% resolution, up to
 * ~10 min). Fixed size, so generators can record millions of samples and
 * ship the counts to the orchestrator to be merged.
 */
const PER_OCTAVE = 64;
const SIZE = 40 * PER_OCTAVE;

export class LatencyHistogram {
  readonly counts: Uint32Array;
  count = 0;
  max = 0;

  constructor(counts?: ArrayLike<number>) {
    this.counts = new Uint32Array(SIZE);
    if (counts) {
      this.counts.set(counts);
      for (let i = 0; i < SIZE; i++) this.count += this.counts[i]!;
    }
  }

  record(us: number): void {
    const v = us < 0 ? 0 : us;
    const i = Math.min(SIZE - 1, Math.floor(Math.log2(v + 1) * PER_OCTAVE));
    this.counts[i]!++;
    this.count++;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = 0;
    this.max = 0;
  }

  merge(o: LatencyHistogram): void {
    for (let i = 0; i < SIZE; i++) this.counts[i]! += o.counts[i]!;
    this.count += o.count;
    this.max = Math.max(this.max, o.max);
  }

  /** Value (us) at quantile q in [0, 1]: the geometric middle of the bucket. */
  quantile(q: number): number {
    if (this.count === 0) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.count));
    let acc = 0;
    for (let i = 0; i < SIZE; i++) {
      acc += this.counts[i]!;
      if (acc >= rank) return 2 ** ((i + 0.5) / PER_OCTAVE) - 1;
    }
    return this.max;
  }

  toJSON(): { count: number; max: number; counts: number[] } {
    return { count: this.count, max: this.max, counts: Array.from(this.counts) };
  }

  static from(j: { count: number; max: number; counts: number[] }): LatencyHistogram {
    const h = new LatencyHistogram(j.counts);
    h.max = j.max;
    return h;
  }
}
