// The addon side of the benchmark against whisper-cli: a worker process per loaded model
// (bench/addon-worker.ts), the inputs (generated audio, whisper-cli built from the same
// whisper.cpp source and flags), and one case run alternately with whisper-cli.
import { fork, spawnSync } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { runtimeInfo } from "../lib/index.js";
import { makeAudio } from "../test/fixtures/models.js";
import { encodeWav16 } from "../test/helpers/wav.js";
import type { RunReply } from "./addon-worker.js";
import { runCli } from "./cli-runner.js";
import { type BenchContext, ROOT, TMP } from "./context.js";
import type { BenchCase } from "./report.js";
import { median, quantile, ratioInterval, round } from "./stats.js";

// ---- the addon side: one child process per loaded model ------------------------------------------

export class AddonWorker {
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

export async function audioFile(seconds: number): Promise<string> {
  const file = path.join(TMP, `audio-${seconds}s.wav`);
  if (!existsSync(file)) await fs.writeFile(file, encodeWav16(makeAudio(seconds, { seed: 7 })));
  return file;
}

export function whisperCli(): string | undefined {
  const cli = path.join(ROOT, "build", "cli-Release", "bin", "whisper-cli");
  if (existsSync(cli)) return cli;
  console.error("building whisper-cli from the same whisper.cpp source and flags (one time)...");
  const built = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--cli"], { stdio: "inherit" });
  return built.status === 0 && existsSync(cli) ? cli : undefined;
}

// ---- one case -------------------------------------------------------------------------------------

export interface CaseSpec {
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

export async function runCase(spec: CaseSpec, cli: string | undefined, ctx: BenchContext): Promise<BenchCase> {
  const { runs, warmup } = ctx;
  const wav = await audioFile(spec.audio_s);
  const worker = new AddonWorker(spec.binary ? { TINGWU_WHISPER_BINARY: spec.binary } : {});
  const compare = spec.compareBinary ? new AddonWorker({ TINGWU_WHISPER_BINARY: spec.compareBinary }) : undefined;
  const gpu = ctx.device === "cuda";
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
