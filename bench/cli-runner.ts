// Runs whisper-cli (built from the same whisper.cpp source and flags) and reads its own timings.
import { spawn } from "node:child_process";
import { addonDefaultCliArgs } from "../test/helpers/whisper-cli.js";

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

export function runCli(cli: string, model: string, wav: string, o: CliOptions): Promise<CliRun> {
  // Same decoding as the addon's defaults (lib/options.ts DECODING_DEFAULTS: greedy, best_of 5,
  // fallback on, no context), with the flags the tests' whisper-cli runs use.
  const args = ["-m", model, "-f", wav, ...addonDefaultCliArgs({ threads: o.threads, language: o.language, flashAttention: o.flashAttention })];
  if (!o.gpu) args.push("-ng");
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cli, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => {
      const processWallMs = performance.now() - started;
      if (code !== 0) return reject(new Error(`whisper-cli exited with ${code}: ${stderr.slice(-2000)}`));
      const total = timing(stderr, "total");
      const load = timing(stderr, "load");
      resolve({
        processWallMs,
        engineMs: total - load,
        loadMs: load,
        encodeMs: timing(stderr, "encode"),
        decodeMs: timing(stderr, "decode"),
        text: stdout,
      });
    });
  });
}
