/** A tiny Prometheus text-format (0.0.4) writer. */
import type { Histogram, LabeledCounter } from "../metrics/primitives.ts";

export const PROM_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

type Labels = Record<string, string>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

function fmt(v: number): string {
  if (Number.isNaN(v)) return "NaN";
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

export class PromWriter {
  readonly #out: string[] = [];

  #head(name: string, type: string, help: string): void {
    this.#out.push(`# HELP ${name} ${help.replace(/\\/g, "\\\\").replace(/\n/g, "\\n")}`, `# TYPE ${name} ${type}`);
  }

  #sample(name: string, labels: Labels | undefined, v: number): void {
    const keys = labels ? Object.keys(labels) : [];
    const l = keys.length === 0 ? "" : `{${keys.map((k) => `${k}="${escapeLabel(labels![k]!)}"`).join(",")}}`;
    this.#out.push(`${name}${l} ${fmt(v)}`);
  }

  counter(name: string, help: string, v: number): this {
    this.#head(name, "counter", help);
    this.#sample(name, undefined, v);
    return this;
  }

  gauge(name: string, help: string, v: number): this {
    this.#head(name, "gauge", help);
    this.#sample(name, undefined, v);
    return this;
  }

  /** One metric family with several labeled samples. */
  family(name: string, type: "counter" | "gauge", help: string, samples: Iterable<[Labels, number]>): this {
    this.#head(name, type, help);
    for (const [labels, v] of samples) this.#sample(name, labels, v);
    return this;
  }

  labeled(name: string, help: string, c: LabeledCounter): this {
    return this.family(name, "counter", help, [...c.values].map(([k, v]) => [{ [c.label]: k }, v] as [Labels, number]));
  }

  histogram(name: string, help: string, h: { buckets: readonly number[]; cumulative: number[]; sum: number; count: number }): this {
    this.#head(name, "histogram", help);
    h.buckets.forEach((b, i) => this.#sample(`${name}_bucket`, { le: fmt(b) }, h.cumulative[i] ?? 0));
    this.#sample(`${name}_bucket`, { le: "+Inf" }, h.count);
    this.#sample(`${name}_sum`, undefined, h.sum);
    this.#sample(`${name}_count`, undefined, h.count);
    return this;
  }

  fromHistogram(name: string, help: string, h: Histogram): this {
    return this.histogram(name, help, { buckets: h.buckets, cumulative: h.cumulative(), sum: h.sum, count: h.count });
  }

  text(): string {
    return this.#out.join("\n") + "\n";
  }
}
