// The results of a benchmark run: their shape, the console table, the files under bench/results,
// and the Markdown report with its SVG charts (no dependencies: hand-drawn bars).
import fs from "node:fs/promises";
import path from "node:path";
import type { RunReply } from "./addon-worker.js";
import { RESULTS } from "./context.js";
import { round } from "./stats.js";

export interface BenchCase {
  kind: "duration" | "threads" | "flash-attention" | "concurrency" | "portable-vs-native" | "http";
  model: string;
  variant: string;
  audio_s: number;
  threads: number;
  concurrency: number;
  flash_attention: boolean;
  runs: number;
  wall_ms_median: number | null;
  wall_ms_min: number | null;
  wall_ms_max: number | null;
  rtf: number | null;
  cli_wall_ms_median: number | null;
  overhead_vs_cli: number | null;
  overhead_pairs: number[];
  loop_gap_max_ms: number | null;
  loop_gap_p99_ms: number | null;
  rss_peak_mb: number | null;
  tokens: number;
  segments: number;
  timings?: RunReply["timings"];
  /** The CPU backend module of a portable build (runtimeInfo().cpuBackend), else absent. */
  cpu_backend?: string | null;
  cli_encode_ms_median?: number | null;
  throughput_audio_s_per_s?: number | null;
  latency_p50_ms?: number | null;
  latency_p95_ms?: number | null;
  mb_per_extra_state?: number | null;
  direct_wall_ms_median?: number | null;
  http_overhead_ms?: number | null;
  /** portable-vs-native: the native build, run alternately with the portable one in the same loop. */
  native_wall_ms_median?: number | null;
  native_encode_ms_median?: number | null;
  /** Median of the per-round ratios portable wall / native wall. */
  portable_vs_native?: number | null;
  portable_vs_native_pairs?: number[];
  /** Geometric mean of the pairs with its 95 % confidence interval. */
  portable_vs_native_geomean?: number | null;
  portable_vs_native_ci95?: [number | null, number | null];
}

export interface BenchResults {
  meta: Record<string, string | number | boolean>;
  notes: string[];
  cases: BenchCase[];
}

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

function barChart(title: string, unit: string, groups: { label: string; bars: { label: string; value: number }[] }[]): string {
  const barW = 26;
  const gap = 10;
  const groupGap = 34;
  const height = 260;
  const top = 40;
  const bottom = 70;
  const left = 60;
  const max = Math.max(1e-9, ...groups.flatMap((g) => g.bars.map((b) => b.value)));
  let x = left;
  const parts: string[] = [];
  const colors = ["#3b82f6", "#f59e0b", "#10b981", "#ef4444", "#8b5cf6", "#64748b"];
  for (const g of groups) {
    const start = x;
    g.bars.forEach((b, i) => {
      const h = ((height - top - bottom) * b.value) / max;
      const y = height - bottom - h;
      parts.push(`<rect x="${x}" y="${y.toFixed(1)}" width="${barW}" height="${h.toFixed(1)}" fill="${colors[i % colors.length]}"><title>${esc(`${g.label} ${b.label}: ${b.value.toFixed(2)} ${unit}`)}</title></rect>`);
      parts.push(`<text x="${x + barW / 2}" y="${(y - 4).toFixed(1)}" font-size="10" text-anchor="middle">${b.value.toFixed(1)}</text>`);
      parts.push(`<text x="${x + barW / 2}" y="${height - bottom + 14}" font-size="10" text-anchor="middle">${esc(b.label)}</text>`);
      x += barW + gap;
    });
    parts.push(`<text x="${(start + x - gap) / 2}" y="${height - bottom + 34}" font-size="12" font-weight="bold" text-anchor="middle">${esc(g.label)}</text>`);
    x += groupGap;
  }
  const width = x + 20;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${left - 6}" y1="${height - bottom}" x2="${width - 10}" y2="${height - bottom}" stroke="#333"/>`,
    `<text x="10" y="${top + 10}" font-size="11">${esc(unit)}</text>`,
    ...parts,
    `</svg>`,
  ].join("\n");
}

export function rtfChart(cases: BenchCase[]): string {
  const main = cases.filter((c) => c.kind === "duration");
  const models = [...new Set(main.map((c) => c.model))];
  return barChart(
    "Speed: audio seconds per wall second (higher is faster)",
    "× real time",
    models.map((m) => ({
      label: m,
      bars: main.filter((c) => c.model === m).map((c) => ({ label: `${c.audio_s}s`, value: c.rtf ?? 0 })),
    })),
  );
}

export function concurrencyChart(cases: BenchCase[]): string {
  const conc = cases.filter((c) => c.kind === "concurrency");
  const models = [...new Set(conc.map((c) => c.model))];
  return barChart(
    "Throughput by concurrent transcriptions on one model",
    "audio s / s",
    models.map((m) => ({
      label: m,
      bars: conc.filter((c) => c.model === m).map((c) => ({ label: `×${c.concurrency}`, value: c.throughput_audio_s_per_s ?? 0 })),
    })),
  );
}

const fmt = (v: number | null | undefined, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d));

export function markdown(results: BenchResults, svgNames: { rtf: string; concurrency: string }): string {
  const m = results.meta;
  const lines = [
    `# tingwu-whisper benchmark — ${m.date} on ${m.host}`,
    "",
    `CPU: ${m.cpu} × ${m.cores} cores · ${m.memoryGb} GiB · Node ${m.node} · whisper.cpp ${m.whisperCppVersion} · addon variant \`${m.variant}\`${m.binary ? ` (\`${m.binary}\`)` : ""} · mode \`${m.mode}\``,
    "",
    `Each case: ${m.warmup} warm-up + ${m.runs} measured runs; median (min–max). Addon and whisper-cli runs alternate and swap places every round (A B, then B A).`,
    "`× rt` = audio seconds per wall second. `overhead` = addon wall / whisper-cli engine time (whisper.cpp's total minus load time, i.e. the same work).",
    "",
    ...results.notes.map((n) => `> ${n}`),
    "",
    `![speed](${svgNames.rtf})`,
    "",
    "| case | model | audio | threads | FA | conc | addon wall ms | × rt | cli ms | overhead | encode ms | decode ms | tokens | loop gap max/p99 ms | RSS peak MB |",
    "|---|---|---:|---:|:-:|---:|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ...results.cases.map(
      (c) =>
        `| ${c.kind}${c.variant !== m.variant ? ` (${c.variant})` : ""} | ${c.model} | ${c.audio_s}s | ${c.threads} | ${c.flash_attention ? "on" : "off"} | ${c.concurrency} | ${fmt(c.wall_ms_median, 0)} (${fmt(c.wall_ms_min, 0)}–${fmt(c.wall_ms_max, 0)}) | ${fmt(c.rtf)} | ${fmt(c.cli_wall_ms_median, 0)} | ${fmt(c.overhead_vs_cli, 3)} | ${fmt(c.timings?.encodeMs, 0)} | ${fmt(c.timings?.decodeMs, 1)} | ${c.tokens} | ${fmt(c.loop_gap_max_ms)}/${fmt(c.loop_gap_p99_ms)} | ${fmt(c.rss_peak_mb, 0)} |`,
    ),
    "",
  ];
  const conc = results.cases.filter((c) => c.kind === "concurrency");
  if (conc.length) {
    lines.push(
      "## Concurrency (one model, a whisper_state per running call)",
      "",
      `![throughput](${svgNames.concurrency})`,
      "",
      "| model | audio | concurrency | throughput audio s/s | latency p50 ms | latency p95 ms | MB per extra state |",
      "|---|---:|---:|---:|---:|---:|---:|",
      ...conc.map(
        (c) =>
          `| ${c.model} | ${c.audio_s}s | ${c.concurrency} | ${fmt(c.throughput_audio_s_per_s, 2)} | ${fmt(c.latency_p50_ms, 0)} | ${fmt(c.latency_p95_ms, 0)} | ${fmt(c.mb_per_extra_state, 0)} |`,
      ),
      "",
    );
  }
  const portable = results.cases.filter((c) => c.kind === "portable-vs-native");
  if (portable.length) {
    // Older results (and runs without build/Release) have no paired native runs: fall back to the
    // native build's duration case of this run.
    const unpaired = (p: BenchCase) =>
      results.cases.find((c) => c.kind === "duration" && c.model === p.model && c.audio_s === p.audio_s && c.threads === p.threads && c.flash_attention === p.flash_attention);
    lines.push(
      "## Portable prebuild vs this machine's `-march=native` build",
      "",
      "The CPU prebuild (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`, plus the AVX512-FP16 backends: the best x86 backend loads at run time) and the native build (`build/Release`), each in its own process, run alternately in one loop (A B, then B A, and so on), with whisper-cli (`-march=native`) in each round. Ratios are medians of the per-round ratios; the geometric mean comes with its 95 % confidence interval, since single rounds on a shared machine vary by ±15 %. Goal: portable / native ≤ 1.05.",
      "",
      "| model | audio | rounds | CPU backend | portable ms | native ms | portable / native (paired median) | geomean (95 % CI) | portable / whisper-cli (paired) | encode ms portable / native |",
      "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|",
      ...portable.map((p) => {
        const n = unpaired(p);
        const nativeMs = p.native_wall_ms_median ?? n?.wall_ms_median ?? null;
        const ratio = p.portable_vs_native ?? (nativeMs && p.wall_ms_median ? p.wall_ms_median / nativeMs : null);
        const paired = p.portable_vs_native !== undefined && p.portable_vs_native !== null;
        const nativeEncode = p.native_encode_ms_median ?? n?.timings?.encodeMs ?? null;
        const ci = p.portable_vs_native_ci95;
        const geo = p.portable_vs_native_geomean ? `${fmt(p.portable_vs_native_geomean, 3)} (${fmt(ci?.[0], 3)}–${fmt(ci?.[1], 3)})` : "–";
        return `| ${p.model} | ${p.audio_s}s | ${p.runs} | ${p.cpu_backend ?? "–"} | ${fmt(p.wall_ms_median, 0)} | ${fmt(nativeMs, 0)} | ${fmt(ratio, 3)}${paired ? "" : " (unpaired)"} | ${geo} | ${fmt(p.overhead_vs_cli, 3)} | ${fmt(p.timings?.encodeMs, 0)} / ${fmt(nativeEncode, 0)} |`;
      }),
      "",
    );
  }
  const http = results.cases.filter((c) => c.kind === "http");
  if (http.length) {
    lines.push(
      "## HTTP (POST /api/v1/transcribe on 127.0.0.1)",
      "",
      "The server and a direct call in a worker (same binary, model and audio) alternate in one loop (A B, then B A); overhead = median of the per-round differences.",
      "",
      "| model | audio | wall ms | direct ms | overhead per request ms |",
      "|---|---:|---:|---:|---:|",
      ...http.map((c) => `| ${c.model} | ${c.audio_s}s | ${fmt(c.wall_ms_median, 0)} | ${fmt(c.direct_wall_ms_median, 0)} | ${fmt(c.http_overhead_ms, 1)} |`),
      "",
    );
  }
  return lines.join("\n");
}

/** The results of the last run (bench/results/latest.json), for the modes that measure one section again. */
export async function readLatest(): Promise<BenchResults> {
  return JSON.parse(await fs.readFile(path.join(RESULTS, "latest.json"), "utf8")) as BenchResults;
}

/** Prints the table and writes <date>-<host>.json, latest.json, latest.md and the charts into bench/results. */
export async function writeOutputs(results: BenchResults): Promise<void> {
  printTable(results);
  const stem = `${results.meta.date}-${results.meta.host}`;
  await fs.writeFile(path.join(RESULTS, `${stem}.json`), JSON.stringify(results, null, 2));
  await fs.writeFile(path.join(RESULTS, "latest.json"), JSON.stringify(results, null, 2));
  await fs.writeFile(path.join(RESULTS, "latest-rtf.svg"), rtfChart(results.cases));
  await fs.writeFile(path.join(RESULTS, "latest-concurrency.svg"), concurrencyChart(results.cases));
  await fs.writeFile(path.join(RESULTS, "latest.md"), markdown(results, { rtf: "latest-rtf.svg", concurrency: "latest-concurrency.svg" }));
  console.log(`\nwrote bench/results/${stem}.json, bench/results/latest.json and bench/results/latest.md`);
}

function printTable(results: BenchResults): void {
  const rows = results.cases.map((c) => ({
    case: c.kind,
    model: c.model,
    variant: c.variant,
    audio_s: c.audio_s,
    threads: c.threads,
    conc: c.concurrency,
    fa: c.flash_attention ? "on" : "off",
    wall_ms: c.wall_ms_median,
    x_realtime: c.rtf,
    cli_ms: c.cli_wall_ms_median,
    overhead: c.overhead_vs_cli,
    encode_ms: c.timings?.encodeMs === undefined ? null : round(c.timings.encodeMs),
    tokens: c.tokens,
    gap_max_ms: c.loop_gap_max_ms,
    rss_mb: c.rss_peak_mb,
  }));
  console.table(rows);
  for (const n of results.notes) console.log(`note: ${n}`);
}
