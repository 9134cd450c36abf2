// Runs whisper-cli (built from the same whisper.cpp source and flags) and reads its own timings.
import { addonDefaultCliArgs, runWhisperCli } from "../test/helpers/whisper-cli.js";
import { TMP } from "./context.js";

export interface CliRun {
  /** Process wall time, including process start and model load. */
  processWallMs: number;
  /** whisper.cpp's "total time" minus "load time": the same work the addon's transcribe() does. */
  engineMs: number;
  loadMs: number;
  encodeMs: number;
  decodeMs: number;
  text: string;
}

export interface CliOptions {
  threads: number;
  flashAttention: boolean;
  language: string;
  gpu: boolean;
}

function timing(stderr: string, name: string): number {
  const match = new RegExp(`${name} time =\\s*([0-9.]+) ms`).exec(stderr);
  return match ? Number(match[1]) : Number.NaN;
}

export async function runCli(cli: string, model: string, wav: string, o: CliOptions): Promise<CliRun> {
  // Same decoding as the addon's defaults (lib/options.ts DECODING_DEFAULTS: greedy, best_of 5,
  // fallback on, no context), through the tests' one whisper-cli runner (its JSON goes to TMP).
  const args = addonDefaultCliArgs({ threads: o.threads, language: o.language, flashAttention: o.flashAttention });
  if (!o.gpu) args.push("-ng");
  const run = await runWhisperCli(cli, model, wav, args, TMP);
  const total = timing(run.stderr, "total");
  const load = timing(run.stderr, "load");
  return {
    processWallMs: run.wallMs,
    engineMs: total - load,
    loadMs: load,
    encodeMs: timing(run.stderr, "encode"),
    decodeMs: timing(run.stderr, "decode"),
    text: run.segments.map((segment) => segment.text).join(""),
  };
}
