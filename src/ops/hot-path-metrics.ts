import type { Metric, Registry } from 'prom-client';

/**
 * Counters and histograms for the per-call path. A prom-client Counter or Histogram turns its
 * labels into a key string, validates them and looks the child up on every inc/observe, also
 * through `labels()` (it only binds the label object); on the sidecar's intake and forwarding
 * path that was about 7% of the main thread's time. Here a child is bound to its labels once and
 * updated with a number add; the registry reads the children at scrape time.
 *
 * They serve the registry's protocol (name, help, type, get, getForPromString, reset) with the
 * values prom-client's own classes would give, so the exposition is the same byte for byte
 * (test/ops/hot-path-metrics.test.ts compares them). A child appears in the exposition once it
 * has been used, as in prom-client.
 */

type Labels<L extends string> = Readonly<Record<L, string>>;

interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly sharedLabels?: Readonly<Record<string, string>>;
  readonly metricName?: string;
}

interface MetricObject {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'histogram';
  readonly values: MetricValue[];
  readonly aggregator: 'sum';
}

interface Config<L extends string> {
  readonly name: string;
  readonly help: string;
  readonly labelNames?: readonly L[];
  readonly registers: readonly Registry[];
}

/** The children of one metric, by their label values, in the order they were first used. */
class Children<L extends string, C extends { readonly labels: Labels<L>; zero(): void }> {
  private readonly byKey = new Map<string, C>();
  /** Used at least once, so exported. */
  readonly used: C[] = [];

  constructor(
    private readonly labelNames: readonly L[],
    private readonly create: (labels: Labels<L>, onFirstUse: (child: C) => void) => C,
  ) {}

  get labelless(): boolean {
    return this.labelNames.length === 0;
  }

  get(labels: Labels<L>): C {
    const key = this.keyOf(labels);
    let child = this.byKey.get(key);
    if (child === undefined) {
      const bound = Object.freeze(Object.fromEntries(this.labelNames.map((name) => [name, labels[name]])));
      child = this.create(bound as Labels<L>, (used) => this.used.push(used));
      this.byKey.set(key, child);
    }
    return child;
  }

  /** Every child back to zero and out of the exposition; children held by callers keep working. */
  clear(): void {
    for (const child of this.byKey.values()) child.zero();
    this.used.length = 0;
  }

  private keyOf(labels: Labels<L>): string {
    if (this.labelNames.length === 1) return checked(labels, this.labelNames[0]!);
    let key = '';
    for (const name of this.labelNames) key += `${checked(labels, name)}\u0000`;
    return key;
  }
}

function checked<L extends string>(labels: Labels<L>, name: L): string {
  const value = labels[name];
  if (typeof value !== 'string') throw new Error(`label "${name}" missing`);
  return value;
}

function register(metric: object, registers: readonly Registry[]): void {
  // The registry only calls name, help, type, get/getForPromString and reset (prom-client 15).
  for (const registry of registers) registry.registerMetric(metric as Metric);
}

/** One counter child, bound to its labels. */
export class CounterChild<L extends string = string> {
  value = 0;
  private listed = false;

  constructor(
    readonly labels: Labels<L>,
    private readonly onFirstUse: (child: CounterChild<L>) => void,
  ) {}

  inc(by = 1): void {
    if (!this.listed) this.list();
    this.value += by;
  }

  /** Exported from now on, even at 0 (as prom-client's child of no labels). */
  list(): void {
    if (this.listed) return;
    this.listed = true;
    this.onFirstUse(this);
  }

  zero(): void {
    this.value = 0;
    this.listed = false;
  }
}

export class HotCounter<L extends string = never> {
  readonly name: string;
  readonly help: string;
  readonly type = 'counter';
  readonly aggregator = 'sum';
  private readonly children: Children<L, CounterChild<L>>;

  constructor(config: Config<L>) {
    this.name = config.name;
    this.help = config.help;
    this.children = new Children(config.labelNames ?? [], (labels, onFirstUse) => new CounterChild(labels, onFirstUse));
    this.reset();
    register(this, config.registers);
  }

  /** The child of these labels, to keep and `inc()` on the hot path. */
  labels(labels: Labels<L>): CounterChild<L> {
    return this.children.get(labels);
  }

  inc(labels: Labels<L>, by = 1): void {
    this.children.get(labels).inc(by);
  }

  async get(): Promise<MetricObject> {
    return this.getForPromString();
  }

  async getForPromString(): Promise<MetricObject> {
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values: this.children.used.map((child) => ({ value: child.value, labels: { ...child.labels } })),
      aggregator: this.aggregator,
    };
  }

  /** As prom-client: no children, but the child of no labels exported at 0. */
  reset(): void {
    this.children.clear();
    if (this.children.labelless) this.children.get({} as Labels<L>).list();
  }
}

/** One histogram child: a count per bucket (not cumulative), their sum and count. */
export class HistogramChild<L extends string = string> {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  private listed = false;

  constructor(
    readonly labels: Labels<L>,
    private readonly upperBounds: readonly number[],
    private readonly onFirstUse: (child: HistogramChild<L>) => void,
  ) {
    this.counts = new Float64Array(upperBounds.length);
  }

  observe(value: number): void {
    if (!Number.isFinite(value)) throw new TypeError(`Value is not a valid number: ${value}`);
    if (!this.listed) this.list();
    this.sum += value;
    this.count += 1;
    const bounds = this.upperBounds;
    for (let i = 0; i < bounds.length; i += 1) {
      if (value <= bounds[i]!) {
        this.counts[i]! += 1;
        return;
      }
    }
  }

  /** Exported from now on, even empty (as prom-client's child of no labels). */
  list(): void {
    if (this.listed) return;
    this.listed = true;
    this.onFirstUse(this);
  }

  zero(): void {
    this.counts.fill(0);
    this.sum = 0;
    this.count = 0;
    this.listed = false;
  }
}

export class HotHistogram<L extends string = never> {
  readonly name: string;
  readonly help: string;
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  readonly upperBounds: readonly number[];
  private readonly children: Children<L, HistogramChild<L>>;
  private unlabelled: HistogramChild<L> | undefined;

  constructor(config: Config<L> & { readonly buckets: readonly number[] }) {
    this.name = config.name;
    this.help = config.help;
    this.upperBounds = Object.freeze([...config.buckets].sort((a, b) => a - b));
    this.children = new Children(
      config.labelNames ?? [],
      (labels, onFirstUse) => new HistogramChild(labels, this.upperBounds, onFirstUse),
    );
    // As prom-client: a histogram of no labels is exported, empty, from the start.
    if (this.children.labelless) this.children.get({} as Labels<L>).list();
    register(this, config.registers);
  }

  /** The child of these labels, to keep and `observe()` on the hot path. */
  labels(labels: Labels<L>): HistogramChild<L> {
    return this.children.get(labels);
  }

  /** Observes on the child of no labels (a histogram without label names). */
  observe(value: number): void {
    this.unlabelled ??= this.children.get({} as Labels<L>);
    this.unlabelled.observe(value);
  }

  /** As prom-client: bucket, +Inf, sum and count values, labels splayed. */
  async get(): Promise<MetricObject> {
    const data = await this.getForPromString();
    return {
      ...data,
      values: data.values.map(({ sharedLabels, labels, ...rest }) => ({
        ...rest,
        labels: { ...labels, ...sharedLabels },
      })),
    };
  }

  async getForPromString(): Promise<MetricObject> {
    const values: MetricValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const child of this.children.used) {
      const sharedLabels = child.labels;
      let cumulative = 0;
      this.upperBounds.forEach((le, i) => {
        cumulative += child.counts[i]!;
        values.push({ labels: { le }, sharedLabels, value: cumulative, metricName: bucketName });
      });
      values.push(
        { labels: { le: '+Inf' }, sharedLabels, value: child.count, metricName: bucketName },
        { labels: {}, sharedLabels, value: child.sum, metricName: `${this.name}_sum` },
        { labels: {}, sharedLabels, value: child.count, metricName: `${this.name}_count` },
      );
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** As prom-client's reset: no children at all. */
  reset(): void {
    this.children.clear();
  }
}
