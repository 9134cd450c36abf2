// whisper-cli built from the same source and flags as the addon, run with the addon's defaults,
// for the "the addon adds no error" comparison.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { addonDefaultCliArgs, runWhisperCli } from "../../helpers/whisper-cli.js";
import type { CliResult } from "../../helpers/whisper-cli.js";
import { ROOT, WHISPER_CLI } from "./env.js";

/** Builds whisper-cli if it isn't there (about 2 minutes); returns undefined if that fails. */
export function ensureWhisperCli(): string | undefined {
  if (existsSync(WHISPER_CLI)) return WHISPER_CLI;
  const r = spawnSync(process.execPath, [path.join(ROOT, "scripts", "build-native.mjs"), "--cli"], { cwd: ROOT, stdio: ["ignore", "inherit", "inherit"] });
  return r.status === 0 && existsSync(WHISPER_CLI) ? WHISPER_CLI : undefined;
}

export type { CliResult, CliSegment } from "../../helpers/whisper-cli.js";

/**
 * Transcribes a 16 kHz WAV with the addon's default decoding: greedy (-bs 1), best of 5,
 * flash attention, temperature fallback 0.2, no context carried between windows.
 */
export function runAddonLikeCli(cli: string, model: string, wav: string, opts: { language: string; threads: number; outDir: string }): Promise<CliResult> {
  return runWhisperCli(cli, model, wav, [...addonDefaultCliArgs(opts), "-np"], opts.outDir);
}
