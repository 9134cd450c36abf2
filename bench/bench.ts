// npm run bench [-- --quick | --full] [--model file.bin] [--runs N] [--device cpu|cuda]
//                [--http-only | --portable-only]  (measure just that section again into latest.json)
//                [--realtime [--streams 1,2,3,4]]  (streaming: bench/results/realtime-latest.{json,md})
//                [--realtime --paced all|jfk]  (decode-paced, latency in audio time: realtime-paced.json)
//                [--tokenizer]  (prompt tokenizer on the largest accepted prompt: results/tokenizer.json)
//                [--long [--long-minutes N] [--long-modes off,on,on+parallel] [--vad-model file.bin] [--threads N]]
//                (long audio with silences, VAD off / on / on+parallel; bench/long.ts)
// Measures tingwu-whisper side by side with whisper-cli built from the same whisper.cpp source
// and flags. It reports; it never fails on speed.
import { fork, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import fs from "node:fs/promises";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { tokenizerBench } from "./tokenizer.js";
import { runtimeInfo } from "../lib/index.js";
import { makeAudio, scriptedModelPath } from "../test/fixtures/models.js";
import { encodeWav16 } from "../test/helpers/wav.js";
import type { RunReply } from "./addon-worker.js";
import { runCli } from "./cli-runner.js";
import { runHttpCase } from "./http-case.js";
import { concurrencyChart, markdown, rtfChart } from "./report.js";
import { median, quantile, ratioInterval, round } from "./stats.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RESULTS = path.join(ROOT, "bench", "results");
const TMP = path.join(RESULTS, "tmp");

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

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    full: { type: "boolean", default: false },
    model: { type: "string", multiple: true },
    runs: { type: "string" },
    device: { type: "string", default: "cpu" },
    "no-cli": { type: "boolean", default: false },
    "http-only": { type: "boolean", default: false },
    "portable-only": { type: "boolean", default: false },
    realtime: { type: "boolean", default: false },
    streams: { type: "string" },
    paced: { type: "string" },
    tokenizer: { type: "boolean", default: false },
    long: { type: "boolean", default: false },
    "long-minutes": { type: "string", default: "4" },
    "vad-model": { type: "string" },
    "long-modes": { type: "string", default: "off,on,on+parallel" },
    threads: { type: "string" },
  },
});
const mode = values.quick ? "quick" : values.full ? "full" : "default";
const runs = values.runs ? Number(values.runs) : mode === "quick" ? 3 : 5;
const warmup = 1;
// The addon side of "addon vs whisper-cli" is the build made with whisper-cli's flags
// (build/Release, -march=native), not whichever binary the loader prefers (a CPU prebuild comes
// first there). TINGWU_WHISPER_BINARY or TINGWU_WHISPER_VARIANT set by the caller still win.
const NATIVE_BUILD = path.join(ROOT, "build", "Release", "tingwu_whisper.node");
if (values.device !== "cuda" && !process.env.TINGWU_WHISPER_BINARY && !process.env.TINGWU_WHISPER_VARIANT && existsSync(NATIVE_BUILD)) {
  process.env.TINGWU_WHISPER_BINARY = NATIVE_BUILD;
}

const cores = typeof os.availableParallelism === "function" ? os.availableParallelism() : os.cpus().length;
const notes: string[] = [];

// ---- the addon side: one child process per loaded model ------------------------------------------

class AddonWorker {
  #child: ChildProcess;
  #next = 0;
  #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  constructor(env: NodeJS.ProcessEnv = {}) {
    this.#child = fork(path.join(ROOT, "bench", "addon-worker.ts"), {
      execArgv: ["--import", "tsx"],
      env: { ...process.env, ...env },
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.#child.on("message", (msg: { id: number; ok: boolean; result?: unknown; error?: string }) => {
      const p = this.#pending.get(msg.id);
      this.#pending.delete(msg.id);
      if (msg.ok) p?.resolve(msg.result);
      else p?.reject(new Error(msg.error));
    });
    this.#child.on("exit", (code) => {
      for (const p of this.#pending.values()) p.reject(new Error(`benchmark worker exited with ${code}`));
      this.#pending.clear();
    });
  }

  call<T>(msg: Record<string, unknown>): Promise<T> {
    const id = this.#next++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#child.send({ ...msg, id });
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((r) => this.#child.once("exit", r));
    this.#child.send({ cmd: "exit", id: -1 });
    await exited;
  }
}

// ---- inputs ---------------------------------------------------------------------------------------

async function audioFile(seconds: number): Promise<string> {
  const file = path.join(TMP, `audio-${seconds}s.wav`);
  if (!existsSync(file)) await fs.writeFile(file, encodeWav16(makeAudio(seconds, { seed: 7 })));
  return file;
}

function whisperCli(): string | undefined {
  const cli = path.join(ROOT, "build", "cli-Release", "bin", "whisper-cli");
  if (existsSync(cli)) return cli;
  console.error("building whisper-cli from the same whisper.cpp source and flags (one time)...");
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--cli"], { stdio: "inherit" });
  return built.status === 0 && existsSync(cli) ? cli : undefined;
}

// ---- one case -------------------------------------------------------------------------------------

interface CaseSpec {
  kind: BenchCase["kind"];
  modelName: string;
  modelFile: string;
  audio_s: number;
  threads: number;
  concurrency: number;
  flashAttention: boolean;
  variant?: string;
  binary?: string;
  /** A second addon binary run alternately with `binary` in each round (portable-vs-native). */
  compareBinary?: string;
  withCli: boolean;
}

async function runCase(spec: CaseSpec, cli: string | undefined): Promise<BenchCase> {
  const wav = await audioFile(spec.audio_s);
  const worker = new AddonWorker(spec.binary ? { TINGWU_WHISPER_BINARY: spec.binary } : {});
  const compare = spec.compareBinary ? new AddonWorker({ TINGWU_WHISPER_BINARY: spec.compareBinary }) : undefined;
  const gpu = values.device === "cuda";
  try {
    const load = { cmd: "load", model: spec.modelFile, threads: spec.threads, flashAttention: spec.flashAttention, concurrency: spec.concurrency, gpu };
    const loaded = await worker.call<{ cpuBackend: string | null }>(load);
    if (compare) await compare.call(load);
    const options = { language: "en", includeTokens: true };
    const replies: RunReply[] = [];
    const cliRuns: { engineMs: number; encodeMs: number }[] = [];
    const pairs: number[] = [];
    const compareReplies: RunReply[] = [];
    const comparePairs: number[] = [];
    const useCli = spec.withCli && cli !== undefined;
    for (let i = 0; i < warmup + runs; i++) {
      // Alternating runs let drift in machine load hit both sides alike, and the sides swap places
      // every round (A B, then B A) so neither always runs first. With a second binary
      // (portable-vs-native) the two addons swap the same way.
      const run = { cmd: "run", audio: wav, parallel: spec.concurrency, options };
      const swap = i % 2 === 1;
      const addons = async (): Promise<[RunReply, RunReply | undefined]> => {
        if (!compare) return [await worker.call<RunReply>(run), undefined];
        if (!swap) return [await worker.call<RunReply>(run), await compare.call<RunReply>(run)];
        const second = await compare.call<RunReply>(run);
        return [await worker.call<RunReply>(run), second];
      };
      const viaCli = () =>
        useCli ? runCli(cli!, spec.modelFile, wav, { threads: spec.threads, flashAttention: spec.flashAttention, language: "en", gpu }) : Promise.resolve(undefined);
      let reply: RunReply;
      let compareReply: RunReply | undefined;
      let cliRun: Awaited<ReturnType<typeof viaCli>>;
      if (swap) {
        cliRun = await viaCli();
        [reply, compareReply] = await addons();
      } else {
        [reply, compareReply] = await addons();
        cliRun = await viaCli();
      }
      if (i < warmup) continue;
      replies.push(reply);
      if (compareReply) {
        compareReplies.push(compareReply);
        comparePairs.push(reply.wallMs / compareReply.wallMs);
      }
      if (cliRun) {
        cliRuns.push(cliRun);
        pairs.push(reply.wallMs / cliRun.engineMs);
      }
    }
    const walls = replies.map((r) => r.wallMs);
    const wallMedian = median(walls);
    const latencies = replies.flatMap((r) => r.latenciesMs);
    const last = replies[replies.length - 1]!;
    const cliMedian = cliRuns.length ? median(cliRuns.map((c) => c.engineMs)) : Number.NaN;
    return {
      kind: spec.kind,
      model: spec.modelName,
      variant: spec.variant ?? String(runtimeInfo().variant),
      audio_s: spec.audio_s,
      threads: spec.threads,
      concurrency: spec.concurrency,
      flash_attention: spec.flashAttention,
      runs,
      wall_ms_median: round(wallMedian),
      wall_ms_min: round(Math.min(...walls)),
      wall_ms_max: round(Math.max(...walls)),
      rtf: round((spec.audio_s * spec.concurrency) / (wallMedian / 1000), 2),
      cli_wall_ms_median: cliRuns.length ? round(cliMedian) : null,
      overhead_vs_cli: pairs.length ? round(median(pairs), 3) : null,
      overhead_pairs: pairs.map((p) => round(p, 3) ?? 0),
      cli_encode_ms_median: cliRuns.length ? round(median(cliRuns.map((c) => c.encodeMs))) : null,
      loop_gap_max_ms: round(Math.max(...replies.map((r) => r.loopGapMaxMs))),
      loop_gap_p99_ms: round(median(replies.map((r) => r.loopGapP99Ms))),
      rss_peak_mb: round(Math.max(...replies.map((r) => r.rssPeakMb))),
      tokens: last.tokens,
      segments: last.segments,
      timings: last.timings,
      ...(loaded.cpuBackend ? { cpu_backend: loaded.cpuBackend } : {}),
      ...(compareReplies.length
        ? {
            native_wall_ms_median: round(median(compareReplies.map((r) => r.wallMs))),
            native_encode_ms_median: round(median(compareReplies.map((r) => r.timings?.encodeMs ?? Number.NaN))),
            portable_vs_native: round(median(comparePairs), 3),
            portable_vs_native_pairs: comparePairs.map((p) => round(p, 3) ?? 0),
            ...(() => {
              const ci = ratioInterval(comparePairs);
              return { portable_vs_native_geomean: round(ci.geomean, 3), portable_vs_native_ci95: [round(ci.lo, 3), round(ci.hi, 3)] as [number | null, number | null] };
            })(),
          }
        : {}),
      ...(spec.kind === "concurrency"
        ? {
            throughput_audio_s_per_s: round((spec.audio_s * spec.concurrency) / (wallMedian / 1000), 2),
            latency_p50_ms: round(quantile(latencies, 0.5)),
            latency_p95_ms: round(quantile(latencies, 0.95)),
            rss_mb: round(median(replies.map((r) => r.rssMb))),
          }
        : {}),
    };
  } finally {
    await worker.close();
    await compare?.close();
  }
}

// ---- the plan ---------------------------------------------------------------------------------------

const PORTABLE_BUILD = path.join(ROOT, "build", "portable", "tingwu_whisper.node");

/** The portable build against the native one (run alternately in each round), per model and duration. */
function portableSpecs(models: { name: string; file: string }[], durations: number[]): CaseSpec[] {
  if (!existsSync(PORTABLE_BUILD)) {
    notes.push("No portable (runtime CPU dispatch) build in build/portable: portable-vs-native not measured (node scripts/build-native.mjs --variant portable).");
    return [];
  }
  const compareBinary = existsSync(NATIVE_BUILD) ? NATIVE_BUILD : undefined;
  return models.flatMap((m) =>
    durations.map((audio_s): CaseSpec => ({
      kind: "portable-vs-native",
      modelName: m.name,
      modelFile: m.file,
      audio_s,
      threads: cores,
      concurrency: 1,
      flashAttention: true,
      withCli: true,
      variant: "portable",
      binary: PORTABLE_BUILD,
      compareBinary,
    })),
  );
}

async function main(): Promise<void> {
  await fs.mkdir(TMP, { recursive: true });
  const info = runtimeInfo();
  if (values.device === "cuda" && !info.devices.some((d) => d.type === "gpu")) {
    const why = info.cudaCompiled
      ? "this addon was built with CUDA but no CUDA device is visible here"
      : "this addon was built without CUDA (use npm run build:cuda and TINGWU_WHISPER_VARIANT=cuda)";
    console.log(`--device cuda: no CUDA benchmark was run: ${why}. These figures would be made up, so there are none.`);
    notes.push(`CUDA requested but not measured: ${why}.`);
    return;
  }
  const cli = values["no-cli"] ? undefined : whisperCli();
  if (!cli && !values["no-cli"]) notes.push("whisper-cli could not be built: CLI columns are empty.");

  const models: { name: string; file: string }[] = [];
  if (values.model?.length) {
    for (const m of values.model) models.push({ name: path.basename(m), file: path.resolve(m) });
  } else {
    models.push({ name: "tiny (scripted)", file: await scriptedModelPath({ dims: "tiny" }) });
    if (mode !== "quick") models.push({ name: "base (scripted)", file: await scriptedModelPath({ dims: "base" }) });
  }
  const durations = mode === "quick" ? [5] : [5, 30, 120];
  const base = (m: { name: string; file: string }) => ({ modelName: m.name, modelFile: m.file, threads: cores, concurrency: 1, flashAttention: true, withCli: true });
  const specs: CaseSpec[] = [];
  for (const m of models) for (const audio_s of durations) specs.push({ ...base(m), kind: "duration", audio_s });
  if (mode !== "quick") {
    const m = models[0]!;
    specs.push({ ...base(m), kind: "flash-attention", audio_s: 30, flashAttention: false });
    for (const threads of [...new Set([1, 2, cores])].filter((t) => t !== cores)) specs.push({ ...base(m), kind: "threads", audio_s: 30, threads });
    for (const concurrency of [1, 2, 4]) specs.push({ ...base(m), kind: "concurrency", audio_s: 30, concurrency, threads: Math.max(1, Math.floor(cores / Math.min(concurrency, cores))), withCli: false });
    specs.push(...portableSpecs(models, mode === "full" ? durations : [30]));
    if (mode === "full") {
      for (const m2 of models) for (const audio_s of durations) specs.push({ ...base(m2), kind: "flash-attention", audio_s, flashAttention: false });
    }
  }

  const cases: BenchCase[] = [];
  for (const spec of specs) {
    process.stderr.write(`[bench] ${spec.kind} ${spec.modelName} ${spec.audio_s}s threads=${spec.threads} conc=${spec.concurrency} fa=${spec.flashAttention}${spec.variant ? ` ${spec.variant}` : ""}\n`);
    cases.push(await runCase(spec, cli));
  }
  const conc = cases.filter((c) => c.kind === "concurrency");
  const one = conc.find((c) => c.concurrency === 1) as (BenchCase & { rss_mb?: number }) | undefined;
  for (const c of conc as (BenchCase & { rss_mb?: number })[]) {
    if (one && c.concurrency > 1 && one.rss_mb !== undefined && c.rss_mb !== undefined) {
      c.mb_per_extra_state = round((c.rss_mb - one.rss_mb) / (c.concurrency - 1));
    }
  }

  if (mode !== "quick") cases.push(await httpCase(cases, models[0]!));

  const results: BenchResults = {
    meta: {
      date: new Date().toISOString().slice(0, 10),
      host: os.hostname(),
      mode,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cores,
      memoryGb: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      whisperCppVersion: info.whisperCppVersion,
      variant: info.variant,
      binary: path.relative(ROOT, info.binary),
      systemInfo: info.systemInfo,
      runs,
      warmup,
      device: values.device ?? "cpu",
    },
    notes,
    cases,
  };
  await writeOutputs(results);
}

async function writeOutputs(results: BenchResults): Promise<void> {
  printTable(results);
  const stem = `${results.meta.date}-${results.meta.host}`;
  await fs.writeFile(path.join(RESULTS, `${stem}.json`), JSON.stringify(results, null, 2));
  await fs.writeFile(path.join(RESULTS, "latest.json"), JSON.stringify(results, null, 2));
  await fs.writeFile(path.join(RESULTS, "latest-rtf.svg"), rtfChart(results.cases));
  await fs.writeFile(path.join(RESULTS, "latest-concurrency.svg"), concurrencyChart(results.cases));
  await fs.writeFile(path.join(RESULTS, "latest.md"), markdown(results, { rtf: "latest-rtf.svg", concurrency: "latest-concurrency.svg" }));
  console.log(`\nwrote bench/results/${stem}.json, bench/results/latest.json and bench/results/latest.md`);
}

/** --portable-only: measures the portable-vs-native cases again (e.g. with more --runs) into the last results. */
async function portableOnly(): Promise<void> {
  await fs.mkdir(TMP, { recursive: true });
  const results = JSON.parse(await fs.readFile(path.join(RESULTS, "latest.json"), "utf8")) as BenchResults;
  const cli = values["no-cli"] ? undefined : whisperCli();
  const models = [
    { name: "tiny (scripted)", file: await scriptedModelPath({ dims: "tiny" }) },
    { name: "base (scripted)", file: await scriptedModelPath({ dims: "base" }) },
  ];
  const cases: BenchCase[] = [];
  for (const spec of portableSpecs(models, [30])) {
    process.stderr.write(`[bench] ${spec.kind} ${spec.modelName} ${spec.audio_s}s (${runs} runs)\n`);
    cases.push(await runCase(spec, cli));
  }
  if (cases.length === 0) throw new Error(notes.join(" "));
  results.cases = [...results.cases.filter((c) => c.kind !== "portable-vs-native"), ...cases];
  results.notes = [
    ...results.notes.filter((n) => !n.startsWith("portable-vs-native measured again")),
    `portable-vs-native measured again on ${new Date().toISOString().slice(0, 10)} with --portable-only (1 warm-up + ${runs} runs); the other cases are from the run above.`,
  ];
  await writeOutputs(results);
}

/** --http-only: adds the HTTP case to the last results (bench/results/latest.json). */
async function httpOnly(): Promise<void> {
  const results = JSON.parse(await fs.readFile(path.join(RESULTS, "latest.json"), "utf8")) as BenchResults;
  results.cases = results.cases.filter((c) => c.kind !== "http");
  const model = { name: "tiny (scripted)", file: await scriptedModelPath({ dims: "tiny" }) };
  results.cases.push(await httpCase(results.cases, model));
  results.notes = [
    ...results.notes.filter((n) => !n.startsWith("http measured again")),
    `http measured again on ${new Date().toISOString().slice(0, 10)} with --http-only (1 warm-up + ${runs} runs); the other cases are from the run above.`,
  ];
  await writeOutputs(results);
}

async function httpCase(cases: BenchCase[], model: { name: string; file: string }): Promise<BenchCase> {
  // Same model, same 30 s audio as the direct case, through the server on 127.0.0.1, alternating
  // with the direct call in a worker (the server and the worker load the same binary).
  const template = cases.find((c) => c.kind === "duration" && c.model === model.name && c.audio_s === 30);
  process.stderr.write(`[bench] http ${model.name} 30s\n`);
  const wav = await audioFile(30);
  const worker = new AddonWorker();
  try {
    await worker.call({ cmd: "load", model: model.file, threads: cores, flashAttention: true, concurrency: 1, gpu: false });
    const direct = async () => (await worker.call<RunReply>({ cmd: "run", audio: wav, parallel: 1, options: { language: "en" } })).wallMs;
    const http = await runHttpCase(ROOT, model.file, wav, cores, warmup, runs, direct);
    return {
      ...(template as BenchCase),
      kind: "http",
      cli_wall_ms_median: null,
      overhead_vs_cli: null,
      overhead_pairs: [],
      wall_ms_median: round(http.medianMs),
      wall_ms_min: round(Math.min(...http.wallsMs)),
      wall_ms_max: round(Math.max(...http.wallsMs)),
      rtf: round(30 / (http.medianMs / 1000), 2),
      direct_wall_ms_median: round(median(http.directMs)),
      http_overhead_ms: round(median(http.overheadMs)),
    };
  } finally {
    await worker.close();
  }
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

/** --long: long-form audio with silences, VAD off / on / on+parallel, into bench/results/long-latest.{json,md}. */
async function longOnly(): Promise<void> {
  const { runLong, LONG_MODES } = await import("./long.js");
  const modes = values["long-modes"].split(",").map((m) => m.trim());
  const bad = modes.find((m) => !(LONG_MODES as readonly string[]).includes(m));
  if (bad !== undefined) throw new RangeError(`Expected ${LONG_MODES.join(", ")} in --long-modes but received ${JSON.stringify(bad)}`);
  const model = values.model?.[0] ?? path.join(ROOT, "data", "models", "real", "ggml-base.bin");
  const vadModel = values["vad-model"] ?? path.join(ROOT, "data", "models", "real", "ggml-silero-v6.2.0.bin");
  for (const [file, how] of [[model, "bash scripts/fetch-real-model.sh"], [vadModel, "bash scripts/fetch-real-model.sh --vad-only"]]) {
    if (!existsSync(file!)) throw new Error(`${file} is missing: run ${how}`);
  }
  const threads = values.threads ? Number(values.threads) : cores;
  const cases = await runLong({ model, vadModel, minutes: Number(values["long-minutes"]), threads, modes: modes as (typeof LONG_MODES)[number][] });
  const info = runtimeInfo();
  const meta = { date: new Date().toISOString(), model: path.basename(model), vad_model: path.basename(vadModel), cores, cpu: os.cpus()[0]?.model ?? "", variant: info.variant, load: os.loadavg().map((l) => l.toFixed(1)).join(" ") };
  await fs.mkdir(RESULTS, { recursive: true });
  await fs.writeFile(path.join(RESULTS, "long-latest.json"), `${JSON.stringify({ meta, cases }, null, 2)}\n`);
  const header = "| mode | audio s | threads x states | wall s | RTF | WER % | words in silence | VAD ms |\n|---|---|---|---|---|---|---|---|";
  const rows = cases.map((c) => `| ${c.mode} | ${c.audio_s} | ${c.threads} x ${c.concurrency} | ${(c.wall_ms / 1000).toFixed(1)} | ${c.rtf} | ${c.wer} | ${c.words_in_silence} | ${c.vad_ms ?? "-"} |`);
  const md = `# Long audio, VAD off / on / on+parallel\n\n${Object.entries(meta).map(([k, v]) => `- ${k}: ${v}`).join("\n")}\n\n${header}\n${rows.join("\n")}\n`;
  await fs.writeFile(path.join(RESULTS, "long-latest.md"), md);
  console.log(md);
}

/** --realtime: the streaming section (real speech at real-time speed, 1 and N streams). */
async function realtimeOnly(): Promise<void> {
  const { realtimeMarkdown, runPacedBench, runRealtimeBench } = await import("./realtime.js");
  if (values.paced !== undefined) {
    // --paced all|jfk: decode-paced, machine-independent latency in audio time (bench/results/realtime-paced.json).
    const paced = await runPacedBench({ ...(values.model?.[0] ? { model: values.model[0] } : {}), ...(values.paced === "jfk" ? { only: "jfk" } : {}) });
    await fs.writeFile(path.join(RESULTS, "realtime-paced.json"), JSON.stringify({ date: new Date().toISOString(), loadavg: os.loadavg(), ...paced }, null, 2));
    console.log(JSON.stringify({ ...paced, runs: undefined }, null, 2));
    return;
  }
  const levels = values.streams ? values.streams.split(",").map(Number) : undefined;
  if (levels?.some((n) => !Number.isInteger(n) || n < 1)) throw new RangeError(`Expected comma-separated stream counts for --streams but received ${values.streams}`);
  const report = await runRealtimeBench({ ...(values.model?.[0] ? { model: values.model[0] } : {}), ...(levels ? { levels } : {}) });
  const stem = `realtime-${new Date().toISOString().slice(0, 10)}-${os.hostname().includes("gpu") ? "gpu" : "vm"}`;
  await fs.mkdir(RESULTS, { recursive: true });
  for (const name of [stem, "realtime-latest"]) {
    await fs.writeFile(path.join(RESULTS, `${name}.json`), JSON.stringify(report, null, 2));
    await fs.writeFile(path.join(RESULTS, `${name}.md`), realtimeMarkdown(report));
  }
  console.log(realtimeMarkdown(report));
}

(values.realtime
  ? realtimeOnly()
  : values.tokenizer
  ? tokenizerBench(values.model?.[0], values.runs ? Number(values.runs) : 30, RESULTS)
  : values.long
    ? longOnly()
    : values["http-only"]
      ? httpOnly()
      : values["portable-only"]
        ? portableOnly()
        : main()
).catch((error) => {
  console.error(error);
  process.exit(1);
});
