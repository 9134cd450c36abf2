// RIFF/WAVE parsing in TypeScript (no ffmpeg needed for the most common upload). Layout, all
// little-endian: "RIFF" u32 size "WAVE", then chunks of (4-byte id, u32 size, data, pad byte when
// size is odd). "fmt " holds u16 format, u16 channels, u32 rate, u32 byte rate, u16 block align,
// u16 bits; WAVE_FORMAT_EXTENSIBLE adds u16 cbSize, u16 valid bits, u32 channel mask and a
// 16-byte sub-format GUID whose first two bytes are the real format.
import { WhisperError } from "../errors.js";
import { float32ToPcm16 } from "./pcm.js";

/** Why decoding failed, for callers that map errors (e.g. to HTTP 400 vs 500). */
export type AudioDecodeErrorCode =
  /** Not a RIFF/WAVE file. */
  | "NOT_WAV"
  /** A header or chunk ends before it should. */
  | "TRUNCATED"
  /** Structurally wrong (no fmt or data chunk, zero channels, impossible block size...). */
  | "INVALID_WAV"
  /** A valid WAV in an encoding this parser doesn't handle (ADPCM, mu-law, RF64...); ffmpeg can. */
  | "UNSUPPORTED_FORMAT"
  /** ffmpeg could not make sense of the input. */
  | "UNDECODABLE"
  /** The input decoded to no samples at all. */
  | "NO_AUDIO"
  /** The decoded audio is longer than the caller allowed. */
  | "TOO_LONG"
  /** ffmpeg is not installed (or not executable). */
  | "FFMPEG_NOT_FOUND"
  /** ffmpeg died (killed by a signal) for a reason other than our abort. */
  | "FFMPEG_FAILED";

/** Audio that can't be decoded; `code` says why. */
export class AudioDecodeError extends WhisperError {
  declare readonly code: AudioDecodeErrorCode;
  /** ffmpeg's stderr (its tail) when ffmpeg was involved. */
  readonly stderr: string | undefined;
  constructor(message: string, code: AudioDecodeErrorCode, options?: { cause?: unknown; stderr?: string }) {
    super(message, code, options);
    this.stderr = options?.stderr;
  }
}

/**
 * Sample rates accepted for WAV and raw PCM input, in Hz. A header claiming 1 Hz would turn each
 * uploaded byte into thousands of 16 kHz samples; nothing real is recorded below 1 kHz or above 384 kHz.
 */
export const SAMPLE_RATE_RANGE = { min: 1000, max: 384_000 } as const;

/** Options of {@link parseWav}. */
export interface ParseWavOptions {
  /** Reject with code TOO_LONG, before any sample is decoded, when the header's duration exceeds this (ms). Default: no limit. */
  maxDurationMs?: number;
}

export const WAVE_FORMAT_PCM = 0x0001;
export const WAVE_FORMAT_IEEE_FLOAT = 0x0003;
export const WAVE_FORMAT_EXTENSIBLE = 0xfffe;

/** The 14 bytes after the format code in every KSDATAFORMAT_SUBTYPE_* GUID for WAVE formats. */
const SUBFORMAT_GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];

/** A parsed WAV file, downmixed to mono at its own rate. */
export interface WavAudio {
  sampleRate: number;
  /** Channels in the file (the samples are their average). */
  channels: number;
  /** Container bits per sample (8, 16, 24, 32 or 64). */
  bitsPerSample: number;
  /** Integer PCM or IEEE float. */
  format: "pcm" | "float";
  /** The fmt chunk's format tag as stored: 1, 3 or 0xFFFE (extensible). */
  formatTag: number;
  /** True when the data chunk claimed more bytes than the file has (the rest was decoded). */
  truncated: boolean;
  /** Mono samples in [-1, 1] at `sampleRate`. */
  samples: Float32Array;
}

interface Format {
  formatTag: number;
  format: "pcm" | "float";
  channels: number;
  sampleRate: number;
  blockAlign: number;
  bitsPerSample: number;
}

const fourcc = (b: Uint8Array, at: number) => String.fromCharCode(b[at]!, b[at + 1]!, b[at + 2]!, b[at + 3]!);

/** True when `bytes` starts like a RIFF/WAVE file. */
export function isWav(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && fourcc(bytes, 0) === "RIFF" && fourcc(bytes, 8) === "WAVE";
}

/**
 * Parses a WAV file: integer PCM 8 (unsigned), 16, 24 or 32 bits, IEEE float 32 or 64 bits, plain
 * or WAVE_FORMAT_EXTENSIBLE, any channel count (averaged to mono) and any sample rate (kept; see
 * {@link resample}). Unknown chunks are skipped. A data size of 0 or 0xFFFFFFFF (written by
 * streaming recorders that never went back to fix the header) means "to the end of the file".
 * Throws {@link AudioDecodeError}.
 */
export function parseWav(bytes: Uint8Array, options: ParseWavOptions = {}): WavAudio {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`Expected a Buffer or Uint8Array for bytes but received ${bytes === null ? "null" : typeof bytes}`);
  if (bytes.length < 12) {
    if (bytes.length >= 4 && fourcc(bytes, 0) === "RIFF") {
      throw new AudioDecodeError(`Truncated WAV: the RIFF header needs 12 bytes but the input has ${bytes.length}`, "TRUNCATED");
    }
    throw new AudioDecodeError(`Not a WAV file: ${bytes.length} bytes is too short for a RIFF header`, "NOT_WAV");
  }
  const riff = fourcc(bytes, 0);
  if (riff === "RF64" || riff === "RIFX") {
    throw new AudioDecodeError(`${riff} WAV files are not supported by the built-in parser`, "UNSUPPORTED_FORMAT");
  }
  if (riff !== "RIFF" || fourcc(bytes, 8) !== "WAVE") {
    throw new AudioDecodeError(`Not a WAV file: expected "RIFF....WAVE" but the input starts with ${JSON.stringify(riff)}`, "NOT_WAV");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let format: Format | undefined;
  let data: { start: number; length: number; truncated: boolean } | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = fourcc(bytes, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === "data" && !data) {
      const available = bytes.length - body;
      const toEnd = size === 0 || size === 0xffffffff;
      // A data size beyond the file is a cut-off upload: decode what arrived.
      data = { start: body, length: toEnd ? available : Math.min(size, available), truncated: !toEnd && size > available };
      if (toEnd) break;
    } else if (id === "fmt ") {
      if (body + size > bytes.length) throw new AudioDecodeError(`Truncated WAV: the fmt chunk needs ${size} bytes but only ${bytes.length - body} remain`, "TRUNCATED");
      format = readFormat(view, body, size);
    }
    at = body + size + (size & 1);
  }
  // The walk ends exactly at the end of a well-formed file; anywhere else, the file was cut.
  // The RIFF size (unless a streaming writer left it 0 or 0xFFFFFFFF) tells the same.
  const riffSize = view.getUint32(4, true);
  const riffCut = riffSize !== 0 && riffSize !== 0xffffffff && bytes.length < riffSize + 8;
  const cut = riffCut || (at !== bytes.length && data?.length !== bytes.length - (data?.start ?? 0));
  if (!format) {
    throw cut
      ? new AudioDecodeError("Truncated WAV: the file ends before a fmt chunk", "TRUNCATED")
      : new AudioDecodeError("Invalid WAV: no fmt chunk", "INVALID_WAV");
  }
  if (!data) {
    throw cut
      ? new AudioDecodeError("Truncated WAV: the file ends before the data chunk", "TRUNCATED")
      : new AudioDecodeError("Invalid WAV: no data chunk", "INVALID_WAV");
  }
  const frames = Math.floor(data.length / format.blockAlign);
  const durationMs = (frames / format.sampleRate) * 1000;
  if (options.maxDurationMs !== undefined && durationMs > options.maxDurationMs) {
    throw new AudioDecodeError(`The audio lasts ${Math.round(durationMs)} ms, more than the allowed ${options.maxDurationMs} ms`, "TOO_LONG");
  }
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    bitsPerSample: format.bitsPerSample,
    format: format.format,
    formatTag: format.formatTag,
    truncated: data.truncated || data.length % format.blockAlign !== 0,
    samples: decodeFrames(view, data.start, frames, format),
  };
}

function readFormat(view: DataView, at: number, size: number): Format {
  if (size < 16) throw new AudioDecodeError(`Invalid WAV: the fmt chunk is ${size} bytes, at least 16 are needed`, "INVALID_WAV");
  const formatTag = view.getUint16(at, true);
  const channels = view.getUint16(at + 2, true);
  const sampleRate = view.getUint32(at + 4, true);
  const blockAlign = view.getUint16(at + 12, true);
  const bitsPerSample = view.getUint16(at + 14, true);
  let code = formatTag;
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    if (size < 40) throw new AudioDecodeError(`Invalid WAV: an extensible fmt chunk needs 40 bytes but has ${size}`, "INVALID_WAV");
    code = view.getUint16(at + 24, true);
    for (let i = 0; i < SUBFORMAT_GUID_TAIL.length; i++) {
      if (view.getUint8(at + 26 + i) !== SUBFORMAT_GUID_TAIL[i]) {
        throw new AudioDecodeError("WAV with a non-standard sub-format GUID is not supported by the built-in parser", "UNSUPPORTED_FORMAT");
      }
    }
  }
  let kind: "pcm" | "float";
  if (code === WAVE_FORMAT_PCM && [8, 16, 24, 32].includes(bitsPerSample)) kind = "pcm";
  else if (code === WAVE_FORMAT_IEEE_FLOAT && (bitsPerSample === 32 || bitsPerSample === 64)) kind = "float";
  else {
    throw new AudioDecodeError(
      `WAV format 0x${code.toString(16).padStart(4, "0")} with ${bitsPerSample} bits per sample is not supported by the built-in parser (PCM 8/16/24/32-bit and float 32/64-bit are)`,
      "UNSUPPORTED_FORMAT",
    );
  }
  if (channels === 0) throw new AudioDecodeError("Invalid WAV: the fmt chunk says 0 channels", "INVALID_WAV");
  if (sampleRate < SAMPLE_RATE_RANGE.min || sampleRate > SAMPLE_RATE_RANGE.max) {
    throw new AudioDecodeError(`Invalid WAV: the fmt chunk says a sample rate of ${sampleRate} Hz; ${SAMPLE_RATE_RANGE.min} to ${SAMPLE_RATE_RANGE.max} Hz are accepted`, "INVALID_WAV");
  }
  const minAlign = channels * (bitsPerSample / 8);
  // Some writers leave block align 0; anything smaller than one frame can't be right either way.
  const align = blockAlign === 0 ? minAlign : blockAlign;
  if (align < minAlign) {
    throw new AudioDecodeError(`Invalid WAV: block align ${blockAlign} is smaller than ${channels} channels x ${bitsPerSample} bits`, "INVALID_WAV");
  }
  return { formatTag, format: kind, channels, sampleRate, blockAlign: align, bitsPerSample };
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** The common case (16-bit PCM, aligned) read through an Int16Array view: several times faster. */
function decodeInt16(ints: Int16Array, frames: number, channels: number): Float32Array {
  const out = new Float32Array(frames);
  if (channels === 1) {
    for (let i = 0; i < frames; i++) out[i] = ints[i]! / 32768;
    return out;
  }
  const scale = 1 / (32768 * channels);
  for (let frame = 0, i = 0; frame < frames; frame++) {
    let sum = 0;
    for (let c = 0; c < channels; c++, i++) sum += ints[i]!;
    out[frame] = sum * scale;
  }
  return out;
}

type SampleReader = (view: DataView, at: number) => number;

const READERS: Record<string, SampleReader> = {
  "pcm8": (v, at) => (v.getUint8(at) - 128) / 128,
  "pcm16": (v, at) => v.getInt16(at, true) / 32768,
  "pcm24": (v, at) => ((v.getUint8(at) | (v.getUint8(at + 1) << 8) | (v.getInt8(at + 2) << 16)) / 8388608),
  "pcm32": (v, at) => v.getInt32(at, true) / 2147483648,
  "float32": (v, at) => v.getFloat32(at, true),
  "float64": (v, at) => v.getFloat64(at, true),
};

function decodeFrames(view: DataView, start: number, frames: number, f: Format): Float32Array {
  const absolute = view.byteOffset + start;
  if (f.format === "pcm" && f.bitsPerSample === 16 && f.blockAlign === 2 * f.channels && absolute % 2 === 0 && HOST_IS_LITTLE_ENDIAN) {
    return decodeInt16(new Int16Array(view.buffer, absolute, frames * f.channels), frames, f.channels);
  }
  const read = READERS[`${f.format}${f.bitsPerSample}`]!;
  const bytesPerSample = f.bitsPerSample / 8;
  const out = new Float32Array(frames);
  const isFloat = f.format === "float";
  for (let frame = 0, at = start; frame < frames; frame++, at += f.blockAlign) {
    let sum = 0;
    for (let c = 0, p = at; c < f.channels; c++, p += bytesPerSample) sum += read(view, p);
    let v = sum / f.channels;
    // Corrupt float data (NaN/Inf) would poison every later computation; silence it instead.
    if (isFloat && !Number.isFinite(v)) v = 0;
    out[frame] = v;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------

export { Resampler, resample } from "./resample.js";

/**
 * Float samples (16 kHz mono unless told; interleaved when `channels` > 1) as a 16-bit PCM WAV
 * file, through float32ToPcm16 (e.g. audio extracted from a video, kept for a job; the tests' WAVs).
 */
export function encodeWavPcm16(samples: Float32Array, sampleRate = 16_000, channels = 1): Buffer {
  const data = float32ToPcm16(samples);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(WAVE_FORMAT_PCM, 20);
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
