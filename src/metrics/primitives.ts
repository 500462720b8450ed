/** Minimal metric primitives; rendered to Prometheus text by the admin API. */
export class Counter {
  value = 0;
  inc(n = 1): void {
    this.value += n;
  }
}

/** A counter split by one label (reason, event, ...). */
export class LabeledCounter {
  readonly values = new Map<string, number>();
  constructor(readonly label: string) {}
  inc(key: string, n = 1): void {
    this.values.set(key, (this.values.get(key) ?? 0) + n);
  }
  get(key: string): number {
    return this.values.get(key) ?? 0;
  }
  total(): number {
    let t = 0;
    for (const v of this.values.values()) t += v;
    return t;
  }
}

export class Histogram {
  readonly counts: number[];
  sum = 0;
  count = 0;
  constructor(readonly buckets: readonly number[]) {
    this.counts = new Array(buckets.length).fill(0);
  }
  observe(v: number): void {
    this.sum += v;
    this.count++;
    const b = this.buckets;
    for (let i = 0; i < b.length; i++) {
      if (v <= b[i]!) {
        this.counts[i]!++;
        return;
      }
    }
  }
  /** Cumulative counts per bucket, as Prometheus wants them. */
  cumulative(): number[] {
    let acc = 0;
    return this.counts.map((c) => (acc += c));
  }
}
