// The HTTP part of the benchmark: the same audio through `tingwu-whisper serve` on 127.0.0.1
// (POST /api/v1/transcribe), against the direct addon call, run alternately with it in one loop;
// the http case of the default run and `npm run bench -- --http-only`.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { scriptedModelPath } from "../test/fixtures/models.js";
import { AddonWorker, audioFile } from "./addon-cases.js";
import type { RunReply } from "./addon-worker.js";
import { type BenchContext, cores, ROOT } from "./context.js";
import { type BenchCase, readLatest, writeOutputs } from "./report.js";
import { median, round } from "./stats.js";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on("error", reject);
  });
}

export interface HttpCaseResult {
  wallsMs: number[];
  medianMs: number;
  /** The direct call's wall time in the same rounds, and HTTP minus direct per round. */
  directMs: number[];
  overheadMs: number[];
}

/** `direct` runs the same transcription without HTTP and returns its wall time in ms. */
export async function runHttpCase(
  root: string,
  modelFile: string,
  wav: string,
  threads: number,
  warmup: number,
  runs: number,
  direct: () => Promise<number>,
): Promise<HttpCaseResult> {
  const port = await freePort();
  const child = spawn(process.execPath, ["--import", "tsx", path.join(root, "lib", "cli.ts"), "serve"], {
    env: { ...process.env, PORT: String(port), HOST: "127.0.0.1", WHISPER_MODEL: modelFile, WHISPER_THREADS: String(threads), WHISPER_LANGUAGE: "en", DEVICE: "cpu", LOG_LEVEL: "warn" },
    stdio: ["ignore", "ignore", "inherit"],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    for (let i = 0; i < 600; i++) {
      const ready = await fetch(`${base}/ready`).then((r) => r.ok, () => false);
      if (ready) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const bytes = await fs.readFile(wav);
    const viaHttp = async (): Promise<number> => {
      const form = new FormData();
      form.append("file", new Blob([bytes], { type: "audio/wav" }), "audio.wav");
      const t0 = performance.now();
      const res = await fetch(`${base}/api/v1/transcribe`, { method: "POST", body: form });
      await res.json();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      return performance.now() - t0;
    };
    const walls: number[] = [];
    const directMs: number[] = [];
    for (let i = 0; i < warmup + runs; i++) {
      // A B, then B A: neither side always goes first.
      let h: number;
      let d: number;
      if (i % 2 === 0) {
        h = await viaHttp();
        d = await direct();
      } else {
        d = await direct();
        h = await viaHttp();
      }
      if (i < warmup) continue;
      walls.push(h);
      directMs.push(d);
    }
    return { wallsMs: walls, medianMs: median(walls), directMs, overheadMs: walls.map((w, k) => w - directMs[k]!) };
  } finally {
    child.kill("SIGTERM");
    await new Promise((r) => child.once("exit", r));
  }
}

/** --http-only: adds the HTTP case to the last results (bench/results/latest.json). */
export async function httpOnly(ctx: BenchContext): Promise<void> {
  const results = await readLatest();
  results.cases = results.cases.filter((c) => c.kind !== "http");
  const model = { name: "tiny (scripted)", file: await scriptedModelPath({ dims: "tiny" }) };
  results.cases.push(await httpCase(results.cases, model, ctx));
  results.notes = [
    ...results.notes.filter((n) => !n.startsWith("http measured again")),
    `http measured again on ${new Date().toISOString().slice(0, 10)} with --http-only (1 warm-up + ${ctx.runs} runs); the other cases are from the run above.`,
  ];
  await writeOutputs(results);
}

/** The http case: `model` on 30 s of audio through the server, alternating with the direct call. */
export async function httpCase(cases: BenchCase[], model: { name: string; file: string }, ctx: BenchContext): Promise<BenchCase> {
  // Same model, same 30 s audio as the direct case, through the server on 127.0.0.1, alternating
  // with the direct call in a worker (the server and the worker load the same binary).
  const template = cases.find((c) => c.kind === "duration" && c.model === model.name && c.audio_s === 30);
  process.stderr.write(`[bench] http ${model.name} 30s\n`);
  const wav = await audioFile(30);
  const worker = new AddonWorker();
  try {
    await worker.call({ cmd: "load", model: model.file, threads: cores, flashAttention: true, concurrency: 1, gpu: false });
    const direct = async () => (await worker.call<RunReply>({ cmd: "run", audio: wav, parallel: 1, options: { language: "en" } })).wallMs;
    const http = await runHttpCase(ROOT, model.file, wav, cores, ctx.warmup, ctx.runs, direct);
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
