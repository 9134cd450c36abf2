// Child process of the benchmark: holds one loaded model and runs transcriptions on request
// (over IPC), so each model's memory is measured on its own and runs can alternate with
// whisper-cli runs from the parent.
import { Whisper, runtimeInfo } from "../lib/index.js";
import type { TranscribeResult } from "../lib/index.js";
import { measureLoopGaps } from "../test/helpers/loop.js";

export type WorkerRequest =
  | { cmd: "load"; model: string; threads: number; flashAttention: boolean; concurrency: number; gpu: boolean }
  | { cmd: "run"; audio: number[] | string; parallel: number; options: Record<string, unknown> }
  | { cmd: "exit" };

export interface RunReply {
  wallMs: number;
  latenciesMs: number[];
  loopGapMaxMs: number;
  loopGapP99Ms: number;
  rssMb: number;
  rssPeakMb: number;
  tokens: number;
  segments: number;
  timings: TranscribeResult["timings"];
  device: string;
}

let model: Whisper | undefined;
const audioCache = new Map<string, Float32Array>();

async function loadAudio(file: string): Promise<Float32Array> {
  const cached = audioCache.get(file);
  if (cached) return cached;
  const { readFile } = await import("node:fs/promises");
  const wav = await readFile(file);
  // Same conversion as whisper-cli's reader: 16-bit PCM / 32768.
  const pcm = new Int16Array(wav.buffer, wav.byteOffset + 44, (wav.length - 44) / 2);
  const samples = new Float32Array(pcm.length);
  for (let i = 0; i < pcm.length; i++) samples[i] = pcm[i]! / 32768;
  audioCache.set(file, samples);
  return samples;
}

async function handle(msg: WorkerRequest): Promise<unknown> {
  if (msg.cmd === "load") {
    model = await Whisper.load(msg.model, {
      threads: msg.threads,
      flashAttention: msg.flashAttention,
      concurrency: msg.concurrency,
      gpu: msg.gpu,
    });
    return { info: model.info, cpuBackend: runtimeInfo().cpuBackend };
  }
  if (msg.cmd === "run") {
    if (!model) throw new Error("no model loaded");
    const audio = await loadAudio(msg.audio as string);
    const latencies: number[] = [];
    let last: TranscribeResult | undefined;
    const started = performance.now();
    const gaps = await measureLoopGaps(() =>
      Promise.all(
        Array.from({ length: msg.parallel }, async () => {
          const t0 = performance.now();
          last = await model!.transcribe(audio, msg.options);
          latencies.push(performance.now() - t0);
        }),
      ),
    );
    const wallMs = performance.now() - started;
    const reply: RunReply = {
      wallMs,
      latenciesMs: latencies,
      loopGapMaxMs: gaps.maxGapMs,
      loopGapP99Ms: gaps.p99GapMs,
      rssMb: process.memoryUsage().rss / 2 ** 20,
      rssPeakMb: process.resourceUsage().maxRSS / 1024,
      tokens: last!.segments.reduce((n, s) => n + (s.tokens?.filter((t) => !t.special).length ?? 0), 0),
      segments: last!.segments.length,
      timings: last!.timings,
      device: model.info.device,
    };
    return reply;
  }
  await model?.dispose();
  process.exit(0);
}

process.on("message", (msg: WorkerRequest & { id: number }) => {
  handle(msg).then(
    (result) => process.send!({ id: msg.id, ok: true, result }),
    (error: Error) => process.send!({ id: msg.id, ok: false, error: error.stack ?? String(error) }),
  );
});
