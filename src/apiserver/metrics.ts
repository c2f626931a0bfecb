/**
 * Prometheus metrics of the API server (/metrics, text exposition format 0.0.4).
 *
 * Written here rather than with prom-client (DESIGN.md's default choice) because importing
 * prom-client costs ~90 ms of the 300 ms start-up budget, and the server needs only labelled
 * counters, gauges and histograms.
 */

type Labels = Record<string, string>;

function labelKey(names: readonly string[], labels: Labels): string {
  return names.map((n) => labels[n] ?? "").join("\u0000");
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

function renderLabels(names: readonly string[], key: string, extra?: [string, string]): string {
  const values = key === "" && names.length === 0 ? [] : key.split("\u0000");
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? "")}"`);
  if (extra) parts.push(`${extra[0]}="${extra[1]}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + by);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} counter\n`;
    for (const [k, v] of this.values) out += `${this.name}${renderLabels(this.labelNames, k)} ${v}\n`;
    return out;
  }
}

export class Gauge implements Metric {
  private readonly values = new Map<string, number>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[] = [],
  ) {}

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelKey(this.labelNames, labels), value);
  }

  inc(labels: Labels = {}): void {
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) + 1);
  }

  dec(labels: Labels = {}): void {
    const k = labelKey(this.labelNames, labels);
    this.values.set(k, (this.values.get(k) ?? 0) - 1);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelKey(this.labelNames, labels)) ?? 0;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} gauge\n`;
    if (this.values.size === 0 && this.labelNames.length === 0) out += `${this.name} 0\n`;
    for (const [k, v] of this.values) out += `${this.name}${renderLabels(this.labelNames, k)} ${v}\n`;
    return out;
  }
}

export class Histogram implements Metric {
  private readonly series = new Map<string, { counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    readonly buckets: readonly number[],
  ) {}

  observe(labels: Labels, value: number): void {
    const k = labelKey(this.labelNames, labels);
    let s = this.series.get(k);
    if (!s) {
      s = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.series.set(k, s);
    }
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} histogram\n`;
    for (const [k, s] of this.series) {
      this.buckets.forEach((b, i) => {
        out += `${this.name}_bucket${renderLabels(this.labelNames, k, ["le", String(b)])} ${s.counts[i]}\n`;
      });
      out += `${this.name}_bucket${renderLabels(this.labelNames, k, ["le", "+Inf"])} ${s.count}\n`;
      out += `${this.name}_sum${renderLabels(this.labelNames, k)} ${s.sum}\n`;
      out += `${this.name}_count${renderLabels(this.labelNames, k)} ${s.count}\n`;
    }
    return out;
  }
}

export class Metrics {
  readonly contentType = "text/plain; version=0.0.4; charset=utf-8";
  readonly requests = new Counter(
    "apiserver_request_total",
    "Counter of apiserver requests broken out for each verb, group, version, resource and HTTP response code.",
    ["verb", "group", "version", "resource", "subresource", "code"],
  );
  readonly latency = new Histogram(
    "apiserver_request_duration_seconds",
    "Response latency distribution in seconds for each verb, group, version and resource.",
    ["verb", "group", "version", "resource", "subresource"],
    [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
  );
  readonly watchers = new Gauge("apiserver_registered_watchers", "Number of currently registered watchers.");
  readonly storeLatency = new Histogram(
    "k8ts_store_request_duration_seconds",
    "Store request latency in seconds by operation.",
    ["operation", "backend"],
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
  );
  readonly storeObjects = new Gauge(
    "apiserver_storage_objects",
    "Number of stored objects at the time of last check split by kind.",
    ["resource"],
  );

  render(): string {
    const all: Metric[] = [this.requests, this.latency, this.watchers, this.storeLatency, this.storeObjects];
    return all.map((m) => m.render()).join("");
  }
}
