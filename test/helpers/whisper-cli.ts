// The one whisper-cli runner of the tests: runs whisper.cpp's own CLI (built from the same source)
// on a WAV file and reads its JSON output. Callers choose the flags.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { DECODING_DEFAULTS } from "../../lib/options.js";

export interface CliSegment {
  start: number;
  end: number;
  text: string;
}

export interface CliResult {
  language: string;
  segments: CliSegment[];
  /** whisper.cpp's temperature fallback count, e.g. `0 p /   0 h` ("?" when not printed). */
  fallbacks: string;
  wallMs: number;
  stderr: string;
}

/**
 * whisper-cli flags for the addon's default decoding (lib/options.ts DECODING_DEFAULTS: beam size,
 * best-of, flash attention); the other defaults are whisper-cli's own and the same.
 */
export function addonDefaultCliArgs(o: { threads: number; language: string; flashAttention?: boolean }): string[] {
  const d = DECODING_DEFAULTS;
  return ["-t", String(o.threads), "-l", o.language, "-bs", String(d.beamSize), "-bo", String(d.bestOf), (o.flashAttention ?? d.flashAttention) ? "-fa" : "-nfa"];
}

let runs = 0;

/** `whisper-cli -m model -f wav -oj -of <outDir>/… ...args`. Rejects with the tail of stderr on failure. */
export async function runWhisperCli(cli: string, model: string, wav: string, args: readonly string[], outDir: string): Promise<CliResult> {
  const prefix = path.join(outDir, `${path.basename(wav, ".wav")}.cli-${process.pid}-${++runs}`);
  const all = ["-m", model, "-f", wav, "-oj", "-of", prefix, ...args];
  const started = performance.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(cli, all, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => {
      err += d;
    });
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stderr: err }));
  });
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`whisper-cli ${all.join(" ")} exited with ${code}: ${stderr.slice(-2000)}`);
  const json = JSON.parse(await fs.readFile(`${prefix}.json`, "utf8")) as {
    result: { language: string };
    transcription: { offsets: { from: number; to: number }; text: string }[];
  };
  return {
    language: json.result.language,
    segments: json.transcription.map((s) => ({ start: s.offsets.from, end: s.offsets.to, text: s.text })),
    fallbacks: /fallbacks =\s*(\d+ p \/\s*\d+ h)/.exec(stderr)?.[1] ?? "?",
    wallMs,
    stderr,
  };
}
