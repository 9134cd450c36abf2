// Test audio: files decoded by the project's own decoder, and speech synthesised with espeak-ng.
import { spawnSync } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { decodeAudio } from "../../../lib/audio/decode.js";
import { encodeWav16 } from "../../helpers/wav.js";

export const hasCommand = (cmd: string, versionFlag = "--version"): boolean => spawnSync(cmd, [versionFlag], { stdio: "ignore" }).status === 0;

/** Decodes a file to 16 kHz mono samples (WAV in TypeScript, anything else through ffmpeg). */
export async function loadAudio(file: string): Promise<Float32Array> {
  return (await decodeAudio(file)).samples;
}


/**
 * Synthesises `text` with espeak-ng (22.05 kHz), resamples it to 16 kHz with the project's
 * resampler and stores it as a 16-bit WAV. The samples returned are read back from that WAV, so
 * the addon gets exactly what whisper-cli reads from the file.
 */
export async function synthesize(voice: string, text: string, dir: string, name: string): Promise<{ wav: string; samples: Float32Array }> {
  const raw = path.join(dir, `${name}.espeak.wav`);
  const r = spawnSync("espeak-ng", ["-v", voice, "-w", raw, text], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`espeak-ng -v ${voice} failed (${r.status}): ${r.stderr}`);
  const wav = path.join(dir, `${name}.wav`);
  await fs.writeFile(wav, encodeWav16(await loadAudio(raw)));
  return { wav, samples: await loadAudio(wav) };
}

export const durationMs = (samples: Float32Array): number => Math.floor((samples.length * 1000) / 16_000);
