// Any upload -> 16 kHz mono float32, the only thing whisper takes. WAV is parsed here in
// TypeScript; everything else goes through ffmpeg; raw PCM is converted directly.
import fs from "node:fs/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { AbortError } from "../errors.js";
import { decodeWithFfmpeg } from "./ffmpeg.js";
import { pcm16ToFloat32 } from "./pcm.js";
import { AudioDecodeError, isWav, parseWav, Resampler, SAMPLE_RATE_RANGE } from "./wav.js";
import { describe } from "../util/describe.js";
import { WHISPER_SAMPLE_RATE } from "./pcm.js";

/** Output samples computed between two yields to the event loop (about 4 s of audio). */
const RESAMPLE_SLICE = 65_536;

/** Options of {@link decodeAudio}. */
export interface DecodeAudioOptions {
  /** Stops decoding (ffmpeg is killed); the promise rejects with AbortError. Default none. */
  signal?: AbortSignal;
  /** The ffmpeg executable for non-WAV input. Default: `FFMPEG_PATH`, else `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** `"auto"` detects WAV and hands anything else to ffmpeg; `"s16le"` means headerless 16-bit little-endian PCM (see `sampleRate`, `channels`). Default `"auto"`. */
  format?: "auto" | "s16le";
  /** Sample rate of `"s16le"` input in Hz. Default `16000`. */
  sampleRate?: number;
  /** Interleaved channels of `"s16le"` input (averaged to mono). Default `1`. */
  channels?: number;
  /** Reject with AudioDecodeError code TOO_LONG when the audio is longer than this (ms). Default: no limit. */
  maxDurationMs?: number;
}

/** Decoded audio, ready for whisper. */
export interface DecodedAudio {
  /** 16 kHz mono samples. */
  samples: Float32Array;
  /** Length of `samples` in ms (rounded). */
  durationMs: number;
  /** Which decoder produced them. */
  source: "wav" | "ffmpeg" | "pcm";
}


function checkPcmLayout(sampleRate: unknown, channels: unknown): { sampleRate: number; channels: number } {
  const { min, max } = SAMPLE_RATE_RANGE;
  if (typeof sampleRate !== "number" || !Number.isInteger(sampleRate) || sampleRate < min || sampleRate > max) {
    throw new RangeError(`Expected an integer between ${min} and ${max} for sampleRate but received ${String(sampleRate)}`);
  }
  if (typeof channels !== "number" || !Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw new RangeError(`Expected an integer between 1 and 64 for channels but received ${String(channels)}`);
  }
  return { sampleRate, channels };
}

/** Averages interleaved channels into one (returns `samples` itself for mono). */
function downmix(samples: Float32Array, channels: number): Float32Array {
  if (channels === 1) return samples;
  const frames = Math.floor(samples.length / channels);
  const out = new Float32Array(frames);
  for (let f = 0, i = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, i++) sum += samples[i]!;
    out[f] = sum / channels;
  }
  return out;
}

/**
 * Headerless PCM16LE (interleaved) to 16 kHz mono. Throws TypeError for non-bytes and RangeError
 * for an empty input, a byte count that isn't whole frames, or a bad rate/channel count.
 * @param sampleRate Default `16000`.
 * @param channels Default `1`.
 */
export function decodeRawPcm16(bytes: Uint8Array, sampleRate = WHISPER_SAMPLE_RATE, channels = 1): Float32Array {
  checkPcmLayout(sampleRate, channels);
  if (bytes instanceof Uint8Array && bytes.byteLength % (2 * channels) !== 0) {
    throw new RangeError(`Expected whole frames (a multiple of ${2 * channels} bytes for ${channels} channels of 16-bit PCM) for bytes but received ${bytes.byteLength} bytes`);
  }
  const mono = downmix(pcm16ToFloat32(bytes, "bytes"), channels);
  if (sampleRate === WHISPER_SAMPLE_RATE) return mono;
  const resampler = new Resampler(sampleRate, WHISPER_SAMPLE_RATE);
  const out = new Float32Array(resampler.outputLength(mono.length));
  resampler.process(mono, out);
  return out;
}

/** Resamples to 16 kHz in slices, yielding between them so a long file doesn't stall the event loop. */
async function to16k(samples: Float32Array, rate: number, signal: AbortSignal | undefined): Promise<Float32Array> {
  if (rate === WHISPER_SAMPLE_RATE) return samples;
  const resampler = new Resampler(rate, WHISPER_SAMPLE_RATE);
  const out = new Float32Array(resampler.outputLength(samples.length));
  for (let start = 0; start < out.length; start += RESAMPLE_SLICE) {
    if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
    resampler.process(samples, out, start, Math.min(out.length, start + RESAMPLE_SLICE));
    if (start + RESAMPLE_SLICE < out.length) await nextTurn();
  }
  return out;
}

function checkDuration(frames: number, rate: number, maxDurationMs: number | undefined): void {
  if (maxDurationMs !== undefined && (frames / rate) * 1000 > maxDurationMs) {
    throw new AudioDecodeError(`The audio lasts ${Math.round((frames / rate) * 1000)} ms, more than the allowed ${maxDurationMs} ms`, "TOO_LONG");
  }
}

function finish(samples: Float32Array, source: DecodedAudio["source"]): DecodedAudio {
  if (samples.length === 0) throw new AudioDecodeError("The input has no audio samples", "NO_AUDIO");
  return { samples, durationMs: Math.round((samples.length * 1000) / WHISPER_SAMPLE_RATE), source };
}

/**
 * Decodes an upload or a file to 16 kHz mono float samples. WAV (PCM 8/16/24/32-bit, float) is
 * parsed in TypeScript and resampled with a band-limited filter; other WAV encodings, and every
 * other format (mp3, m4a, ogg, opus, flac, webm, video...), are decoded by ffmpeg. Throws
 * AudioDecodeError (see its `code`), AbortError, TypeError/RangeError for bad arguments, and
 * Node's fs errors (e.g. ENOENT) for a path that can't be read.
 * @param input The file's bytes, or a path to it.
 */
export async function decodeAudio(input: Uint8Array | string, options: DecodeAudioOptions = {}): Promise<DecodedAudio> {
  if (typeof input !== "string" && !(input instanceof Uint8Array)) {
    throw new TypeError(`Expected a Buffer, Uint8Array or file path for input but received ${describe(input)}`);
  }
  if (typeof input === "string" && input.trim() === "") throw new TypeError("Expected a file path for input but received an empty string");
  if (options === null || typeof options !== "object") throw new TypeError(`Expected an options object for decodeAudio but received ${describe(options)}`);
  const { signal, format = "auto", maxDurationMs } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) throw new TypeError(`Expected an AbortSignal for signal but received ${describe(signal)}`);
  if (format !== "auto" && format !== "s16le") throw new RangeError(`Expected "auto" or "s16le" for format but received ${JSON.stringify(format)}`);
  if (maxDurationMs !== undefined && !(typeof maxDurationMs === "number" && maxDurationMs > 0)) {
    throw new RangeError(`Expected a positive number of milliseconds for maxDurationMs but received ${String(maxDurationMs)}`);
  }
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });

  if (format === "s16le") {
    const { sampleRate, channels } = checkPcmLayout(options.sampleRate ?? WHISPER_SAMPLE_RATE, options.channels ?? 1);
    const bytes = typeof input === "string" ? await fs.readFile(input) : input;
    if (bytes.byteLength % (2 * channels) !== 0) {
      throw new RangeError(`Expected whole frames (a multiple of ${2 * channels} bytes for ${channels} channels of 16-bit PCM) for input but received ${bytes.byteLength} bytes`);
    }
    if (bytes.byteLength === 0) throw new AudioDecodeError("The input is empty (0 bytes)", "NO_AUDIO");
    const mono = downmix(pcm16ToFloat32(bytes, "input"), channels);
    checkDuration(mono.length, sampleRate, maxDurationMs);
    return finish(await to16k(mono, sampleRate, signal), "pcm");
  }

  const ffmpegOptions = { ...(signal ? { signal } : {}), ...(options.ffmpegPath !== undefined ? { ffmpegPath: options.ffmpegPath } : {}), ...(maxDurationMs !== undefined ? { maxDurationMs } : {}) };
  const bytes = typeof input === "string" ? await readIfWav(input) : input;
  if (bytes !== undefined) {
    if (bytes.byteLength === 0) throw new AudioDecodeError("The input is empty (0 bytes)", "UNDECODABLE");
    if (isWav(bytes)) {
      let wav: ReturnType<typeof parseWav> | undefined;
      try {
        wav = parseWav(bytes, maxDurationMs !== undefined ? { maxDurationMs } : {});
      } catch (error) {
        // ADPCM, mu-law, A-law, RF64...: valid audio that ffmpeg decodes.
        if (!(error instanceof AudioDecodeError && error.code === "UNSUPPORTED_FORMAT")) throw error;
      }
      if (wav) {
        return finish(sanitize(await to16k(wav.samples, wav.sampleRate, signal)), "wav");
      }
    } else if (bytes.length >= 4 && String.fromCharCode(...bytes.subarray(0, 4)) === "RIFF" && bytes.length < 12) {
      throw new AudioDecodeError(`Truncated WAV: the RIFF header needs 12 bytes but the input has ${bytes.length}`, "TRUNCATED");
    }
  }
  const samples = await decodeWithFfmpeg(typeof input === "string" ? input : bytes!, ffmpegOptions);
  return finish(sanitize(samples), "ffmpeg");
}

/** Reads a file only when it is a WAV (ffmpeg reads everything else itself, seeking as it needs). */
async function readIfWav(file: string): Promise<Uint8Array | undefined> {
  const handle = await fs.open(file, "r");
  try {
    const header = new Uint8Array(12);
    const { bytesRead } = await handle.read(header, 0, 12, 0);
    if (bytesRead === 0) return header.subarray(0, 0);
    if (!isWav(header.subarray(0, bytesRead))) return undefined;
  } finally {
    await handle.close();
  }
  return fs.readFile(file);
}

/** NaN or infinite samples (corrupt float input) become silence rather than poisoning whisper. */
function sanitize(samples: Float32Array): Float32Array {
  for (let i = 0; i < samples.length; i++) if (!Number.isFinite(samples[i]!)) samples[i] = 0;
  return samples;
}
