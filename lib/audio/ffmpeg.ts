// Decoding through the ffmpeg executable: the input goes in on stdin (or as a file path), 16 kHz
// mono float32 comes out on stdout. Nothing is written to disk except in the one case a pipe
// can't work (see needsSeekableInput), and then into a private directory removed afterwards.
import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { AbortError } from "../errors.js";
import { AudioDecodeError } from "./wav.js";
import { WHISPER_SAMPLE_RATE } from "./pcm.js";

/** Options of {@link decodeWithFfmpeg}. */
export interface FfmpegDecodeOptions {
  /** Stops decoding: ffmpeg is killed and the promise rejects with AbortError. Default none. */
  signal?: AbortSignal;
  /** The ffmpeg executable. Default: the `FFMPEG_PATH` environment variable, else `ffmpeg` on PATH. */
  ffmpegPath?: string;
  /** Output sample rate in Hz. Default `16000`. */
  sampleRate?: number;
  /** Give up with code TOO_LONG once more audio than this (in ms) has been decoded. Default: no limit. */
  maxDurationMs?: number;
}

/** ffmpeg's stderr is kept up to this many characters (its tail), for error messages. */
const STDERR_LIMIT = 16_384;

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The executable that will be run: the option, else FFMPEG_PATH, else `ffmpeg`. */
export function ffmpegExecutable(ffmpegPath?: string): string {
  if (ffmpegPath !== undefined) {
    if (typeof ffmpegPath !== "string" || ffmpegPath.trim() === "") {
      throw new TypeError(`Expected a non-empty string for ffmpegPath but received ${JSON.stringify(ffmpegPath)}`);
    }
    return ffmpegPath;
  }
  const fromEnv = process.env.FFMPEG_PATH?.trim();
  return fromEnv ? fromEnv : "ffmpeg";
}

function notFound(executable: string, cause: unknown): AudioDecodeError {
  return new AudioDecodeError(
    `ffmpeg is needed to decode this audio format but ${JSON.stringify(executable)} could not be run (${(cause as NodeJS.ErrnoException).code ?? "error"}). ` +
      "Install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: brew install ffmpeg) or set FFMPEG_PATH to its location. WAV files do not need ffmpeg.",
    "FFMPEG_NOT_FOUND",
    { cause },
  );
}

/** True when ffmpeg can be started (runs `ffmpeg -version`). */
export function ffmpegAvailable(ffmpegPath?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn(ffmpegExecutable(ffmpegPath), ["-hide_banner", "-version"], { stdio: "ignore", windowsHide: true });
    child.on("error", () => resolve(false));
    child.on("close", (code) => resolve(code === 0));
  });
}

/**
 * True for an MP4/M4A/MOV whose index (moov box) comes after the media data (mdat), as many
 * phone recorders write it: ffmpeg must seek back to read it, which a pipe can't do, and for
 * large files it then "succeeds" with no output at all.
 */
export function needsSeekableInput(bytes: Uint8Array): boolean {
  if (bytes.length < 12 || String.fromCharCode(...bytes.subarray(4, 8)) !== "ftyp") return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (at + 8 <= bytes.length) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (type === "moov") return false;
    if (type === "mdat") return true;
    if (size === 1) {
      if (at + 16 > bytes.length) return true;
      size = Number(view.getBigUint64(at + 8));
    } else if (size === 0) {
      return true; // the last box runs to the end of the file and moov was not before it
    }
    if (size < 8) return true;
    at += size;
  }
  return true;
}

/**
 * Decodes any audio or video ffmpeg understands to mono float32 samples at `sampleRate` (the
 * first/best audio stream; video, subtitles and data are ignored). Throws AudioDecodeError
 * (FFMPEG_NOT_FOUND, UNDECODABLE, NO_AUDIO, TOO_LONG, FFMPEG_FAILED) or AbortError.
 * @param input The file's bytes, or a path to it.
 */
export async function decodeWithFfmpeg(input: Uint8Array | string, options: FfmpegDecodeOptions = {}): Promise<Float32Array> {
  if (typeof input === "string") return run({ path: path.resolve(input) }, options);
  if (!(input instanceof Uint8Array)) throw new TypeError(`Expected a Buffer, Uint8Array or file path for input but received ${input === null ? "null" : typeof input}`);
  if (!needsSeekableInput(input)) return run({ bytes: input }, options);
  options.signal?.throwIfAborted?.();
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-whisper-"));
  try {
    const file = path.join(dir, "input.mp4");
    await fs.writeFile(file, input, { mode: 0o600 });
    return await run({ path: file }, options);
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

function run(source: { path: string } | { bytes: Uint8Array }, options: FfmpegDecodeOptions): Promise<Float32Array> {
  const executable = ffmpegExecutable(options.ffmpegPath);
  const sampleRate = options.sampleRate ?? WHISPER_SAMPLE_RATE;
  if (!Number.isInteger(sampleRate) || sampleRate < 1000 || sampleRate > 384_000) {
    throw new RangeError(`Expected an integer between 1000 and 384000 for sampleRate but received ${String(sampleRate)}`);
  }
  const maxDurationMs = options.maxDurationMs;
  if (maxDurationMs !== undefined && !(typeof maxDurationMs === "number" && maxDurationMs > 0)) {
    throw new RangeError(`Expected a positive number of milliseconds for maxDurationMs but received ${String(maxDurationMs)}`);
  }
  const maxBytes = maxDurationMs === undefined ? Infinity : Math.ceil((maxDurationMs / 1000) * sampleRate) * 4;
  const signal = options.signal;

  return new Promise<Float32Array>((resolve, reject) => {
    if (signal?.aborted) {
      reject(new AbortError(undefined, { cause: signal.reason }));
      return;
    }
    // "file:" keeps names like "-x.mp3" or "http:foo" from being read as options or protocols.
    const inputArg = "path" in source ? `file:${source.path}` : "pipe:0";
    const args = ["-hide_banner", "-nostdin", "-loglevel", "error", "-i", inputArg, "-vn", "-sn", "-dn", "-ac", "1", "-ar", String(sampleRate), "-f", "f32le", "-c:a", "pcm_f32le", "pipe:1"];
    const child = spawn(executable, args, { stdio: ["pipe", "pipe", "pipe"], windowsHide: true });

    const chunks: Buffer[] = [];
    let received = 0;
    let stderr = "";
    let failure: Error | undefined;
    let settled = false;

    const stop = (error: Error) => {
      failure ??= error;
      child.kill("SIGKILL");
    };
    const onAbort = () => stop(new AbortError(undefined, { cause: signal?.reason }));
    signal?.addEventListener("abort", onAbort, { once: true });

    const finish = (error: Error | undefined, samples?: Float32Array) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(error);
      else resolve(samples!);
    };

    child.on("error", (error: NodeJS.ErrnoException) => {
      // spawn failures (ENOENT, EACCES) arrive here and no "close" may follow.
      const wrapped = error.code === "ENOENT" || error.code === "EACCES" || error.code === "ENOTDIR" ? notFound(executable, error) : error;
      failure ??= wrapped;
      if (child.pid === undefined) finish(failure);
    });
    child.stdout.on("data", (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        stop(new AudioDecodeError(`The audio is longer than the allowed ${maxDurationMs} ms`, "TOO_LONG"));
        return;
      }
      chunks.push(chunk);
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (text: string) => {
      stderr = (stderr + text).slice(-STDERR_LIMIT);
    });
    // ffmpeg stops reading when it gives up on the input; the write then fails with EPIPE,
    // which says nothing the exit status doesn't.
    child.stdin.on("error", () => {});
    if ("bytes" in source) child.stdin.end(Buffer.from(source.bytes.buffer, source.bytes.byteOffset, source.bytes.byteLength));
    else child.stdin.end();

    child.on("close", (code, killedBy) => {
      if (failure) return finish(failure);
      const detail = stderr.trim();
      if (killedBy) {
        return finish(new AudioDecodeError(`ffmpeg was killed by ${killedBy} while decoding${detail ? `: ${lastLines(detail)}` : ""}`, "FFMPEG_FAILED", { stderr: detail }));
      }
      if (code !== 0) {
        return finish(new AudioDecodeError(`ffmpeg could not decode the input (exit code ${code})${detail ? `: ${lastLines(detail)}` : ""}`, "UNDECODABLE", { stderr: detail }));
      }
      const samples = toFloat32(chunks, received);
      if (samples.length === 0) {
        // ffmpeg exits 0 on some inputs it could not read at all; its stderr says why.
        return finish(
          detail
            ? new AudioDecodeError(`ffmpeg could not decode the input: ${lastLines(detail)}`, "UNDECODABLE", { stderr: detail })
            : new AudioDecodeError("The input has no audio (ffmpeg decoded 0 samples)", "NO_AUDIO"),
        );
      }
      finish(undefined, samples);
    });
  });
}

function lastLines(text: string, count = 3): string {
  return text.split(/\r?\n/).filter((l) => l.trim() !== "").slice(-count).join(" | ");
}

/** Joins f32le chunks into a Float32Array (one copy; chunk boundaries may split a sample). */
function toFloat32(chunks: readonly Buffer[], byteLength: number): Float32Array {
  const count = Math.floor(byteLength / 4);
  const out = new Float32Array(count);
  const bytes = new Uint8Array(out.buffer);
  let at = 0;
  for (const chunk of chunks) {
    const take = Math.min(chunk.length, bytes.length - at);
    if (take <= 0) break;
    bytes.set(take === chunk.length ? chunk : chunk.subarray(0, take), at);
    at += take;
  }
  if (!HOST_IS_LITTLE_ENDIAN) {
    const view = new DataView(out.buffer);
    for (let i = 0; i < count; i++) out[i] = view.getFloat32(i * 4, true);
  }
  return out;
}
