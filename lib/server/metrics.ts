// A small Prometheus registry (text exposition format 0.0.4): counters, gauges and histograms
// with labels. Enough for this service; no client library needed.

type Labels = Record<string, string>;

const escapeLabel = (value: string) => value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}`;
}

const keyOf = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));

function formatNumber(value: number): string {
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return Number.isNaN(value) ? "NaN" : String(value);
}

interface Metric {
  render(): string;
}

export class Counter implements Metric {
  readonly #values = new Map<string, { labels: Labels; value: number }>();
  /** @param unlabelled Report `0` before the first increment (for counters without labels). */
  constructor(
    readonly name: string,
    readonly help: string,
    readonly unlabelled = false,
  ) {}

  inc(labels: Labels = {}, by = 1): void {
    const key = keyOf(labels);
    const entry = this.#values.get(key);
    if (entry) entry.value += by;
    else this.#values.set(key, { labels, value: by });
  }

  get(labels: Labels = {}): number {
    return this.#values.get(keyOf(labels))?.value ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    if (this.unlabelled && this.#values.size === 0) lines.push(`${this.name} 0`);
    for (const { labels, value } of this.#values.values()) lines.push(`${this.name}${labelText(labels)} ${formatNumber(value)}`);
    return lines.join("\n");
  }
}

/** A gauge whose value is read when scraped. */
export class Gauge implements Metric {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly read: () => number | { labels: Labels; value: number }[],
  ) {}

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    const value = this.read();
    if (typeof value === "number") lines.push(`${this.name} ${formatNumber(value)}`);
    else for (const v of value) lines.push(`${this.name}${labelText(v.labels)} ${formatNumber(v.value)}`);
    return lines.join("\n");
  }
}

export class Histogram implements Metric {
  readonly #series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly buckets: readonly number[],
  ) {}

  observe(value: number, labels: Labels = {}): void {
    if (!Number.isFinite(value)) return;
    const key = keyOf(labels);
    let series = this.#series.get(key);
    if (!series) {
      series = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, series);
    }
    this.buckets.forEach((bound, i) => {
      if (value <= bound) series.counts[i]!++;
    });
    series.sum += value;
    series.count++;
  }

  count(labels: Labels = {}): number {
    return this.#series.get(keyOf(labels))?.count ?? 0;
  }

  /** The sum of the observed values. */
  sum(labels: Labels = {}): number {
    return this.#series.get(keyOf(labels))?.sum ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.#series.values()) {
      for (const [i, bound] of this.buckets.entries()) lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: formatNumber(bound) })} ${s.counts[i]}`);
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${formatNumber(s.sum)}`);
      lines.push(`${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join("\n");
  }
}

export class Registry {
  readonly #metrics: Metric[] = [];

  add<M extends Metric>(metric: M): M {
    this.#metrics.push(metric);
    return metric;
  }

  /** The exposition text. */
  render(): string {
    return `${this.#metrics.map((m) => m.render()).join("\n")}\n`;
  }
}

/** Content type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

const DURATION_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
const RTF_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10];

/** What the service reports; the gauges read live state through `sources`. */
export interface MetricSources {
  queueWaiting: () => number;
  queueRunning: () => number;
  queueCapacity: () => number;
  modelState: () => string;
}

/** The service's metrics. */
export function createMetrics(sources: MetricSources) {
  const registry = new Registry();
  const prefix = "tingwu_whisper";
  return {
    registry,
    requests: registry.add(new Counter(`${prefix}_http_requests_total`, "HTTP requests answered, by method, route and status.")),
    requestDuration: registry.add(new Histogram(`${prefix}_http_request_duration_seconds`, "Time to answer an HTTP request, by method and route.", DURATION_BUCKETS)),
    rejected: registry.add(new Counter(`${prefix}_queue_rejected_total`, "Requests refused with 503 because the queue was full.", true)),
    aborted: registry.add(new Counter(`${prefix}_inference_aborted_total`, "Transcriptions stopped early, by reason (client_disconnect, timeout).")),
    inferences: registry.add(new Counter(`${prefix}_inferences_total`, "Model runs finished, by kind (transcribe, detect_language) and outcome (ok, error, aborted).")),
    inferenceDuration: registry.add(new Histogram(`${prefix}_inference_duration_seconds`, "Time the model spent on a successful transcription.", DURATION_BUCKETS)),
    audioSeconds: registry.add(new Counter(`${prefix}_audio_seconds_total`, "Seconds of audio transcribed successfully.", true)),
    realTimeFactor: registry.add(new Histogram(`${prefix}_real_time_factor`, "Inference time divided by audio duration, per transcription (below 1 is faster than real time).", RTF_BUCKETS)),
    queueDepth: registry.add(new Gauge(`${prefix}_queue_depth`, "Admitted requests waiting for the model (decoding or queued).", sources.queueWaiting)),
    active: registry.add(new Gauge(`${prefix}_inference_active`, "Transcriptions running on the model now.", sources.queueRunning)),
    capacity: registry.add(new Gauge(`${prefix}_queue_capacity`, "Requests admitted at most (WHISPER_POOL_SIZE + WHISPER_QUEUE_SIZE).", sources.queueCapacity)),
    modelState: registry.add(
      new Gauge(`${prefix}_model_state`, "1 for the model's current state (idle, loading, ready, failed).", () =>
        ["idle", "loading", "ready", "failed"].map((state) => ({ labels: { state }, value: sources.modelState() === state ? 1 : 0 })),
      ),
    ),
    residentMemory: registry.add(new Gauge("process_resident_memory_bytes", "Resident memory size in bytes.", () => process.memoryUsage.rss())),
  };
}

export type ServiceMetrics = ReturnType<typeof createMetrics>;

/** TingWu's `GET /metrics` body (its `MetricsResponse`). */
export interface MetricsSummary {
  uptime_seconds: number;
  /** Transcriptions that reached the model, whatever their outcome. */
  total_requests: number;
  successful_requests: number;
  /** Transcriptions that failed or were stopped (timeout, client gone). */
  failed_requests: number;
  total_audio_seconds: number;
  /** Inference seconds over audio seconds, all transcriptions together (TingWu's definition); 0 before the first. */
  avg_rtf: number;
  /** TingWu's LLM cache; this service has no LLM, so always `{}`. */
  llm_cache_stats: Record<string, never>;
}

/** The counters summed up the way TingWu's `/metrics` reports them. */
export function summarizeMetrics(metrics: ServiceMetrics, startedAt: number, now = Date.now()): MetricsSummary {
  const outcome = (name: string) => metrics.inferences.get({ kind: "transcribe", outcome: name });
  const successful = outcome("ok");
  const failed = outcome("error") + outcome("aborted");
  const audioSeconds = metrics.audioSeconds.get();
  return {
    uptime_seconds: Math.max(0, (now - startedAt) / 1000),
    total_requests: successful + failed,
    successful_requests: successful,
    failed_requests: failed,
    total_audio_seconds: audioSeconds,
    avg_rtf: audioSeconds > 0 ? metrics.inferenceDuration.sum() / audioSeconds : 0,
    llm_cache_stats: {},
  };
}
