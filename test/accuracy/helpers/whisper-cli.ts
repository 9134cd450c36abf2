// Runs whisper.cpp's own whisper-cli (built from the same source and flags as the addon) and
// reads its JSON output, for the "the addon adds no error" comparison.
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import fs from "node:fs/promises";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ROOT, WHISPER_CLI } from "./env.js";

/** Builds whisper-cli if it isn't there (about 2 minutes); returns undefined if that fails. */
export function ensureWhisperCli(): string | undefined {
  if (existsSync(WHISPER_CLI)) return WHISPER_CLI;
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--cli"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  return r.status === 0 && existsSync(WHISPER_CLI) ? WHISPER_CLI : undefined;
}

export interface CliSegment {
  start: number;
  end: number;
  text: string;
}

export interface CliResult {
  language: string;
  segments: CliSegment[];
  wallMs: number;
  stderr: string;
}

/**
 * Transcribes a 16 kHz WAV with the addon's default decoding: greedy (-bs 1), best of 5,
 * flash attention, temperature fallback 0.2, no context carried between windows.
 */
export async function runWhisperCli(cli: string, model: string, wav: string, opts: { language: string; threads: number; outDir: string }): Promise<CliResult> {
  const prefix = path.join(opts.outDir, `${path.basename(wav, ".wav")}.cli-${opts.language}`);
  const args = ["-m", model, "-f", wav, "-t", String(opts.threads), "-l", opts.language, "-bs", "1", "-bo", "5", "-fa", "-oj", "-of", prefix, "-np"];
  const started = performance.now();
  const { code, stderr } = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
    const child = spawn(cli, args, { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err += d));
    child.on("error", reject);
    child.on("close", (c) => resolve({ code: c, stderr: err }));
  });
  const wallMs = performance.now() - started;
  if (code !== 0) throw new Error(`whisper-cli ${args.join(" ")} exited with ${code}: ${stderr.slice(-2000)}`);
  const json = JSON.parse(await fs.readFile(`${prefix}.json`, "utf8")) as {
    result: { language: string };
    transcription: { offsets: { from: number; to: number }; text: string }[];
  };
  return {
    language: json.result.language,
    segments: json.transcription.map((s) => ({ start: s.offsets.from, end: s.offsets.to, text: s.text })),
    wallMs,
    stderr,
  };
}

