// RIFF/WAVE parsing in TypeScript (no ffmpeg needed for the most common upload). Layout, all
// little-endian: "RIFF" u32 size "WAVE", then chunks of (4-byte id, u32 size, data, pad byte when
// size is odd). "fmt " holds u16 format, u16 channels, u32 rate, u32 byte rate, u16 block align,
// u16 bits; WAVE_FORMAT_EXTENSIBLE adds u16 cbSize, u16 valid bits, u32 channel mask and a
// 16-byte sub-format GUID whose first two bytes are the real format.
import { WhisperError } from "../errors.js";

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
export function parseWav(bytes: Uint8Array): WavAudio {
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
  if (sampleRate === 0) throw new AudioDecodeError("Invalid WAV: the fmt chunk says a sample rate of 0", "INVALID_WAV");
  const minAlign = channels * (bitsPerSample / 8);
  // Some writers leave block align 0; anything smaller than one frame can't be right either way.
  const align = blockAlign === 0 ? minAlign : blockAlign;
  if (align < minAlign) {
    throw new AudioDecodeError(`Invalid WAV: block align ${blockAlign} is smaller than ${channels} channels x ${bitsPerSample} bits`, "INVALID_WAV");
  }
  return { formatTag, format: kind, channels, sampleRate, blockAlign: align, bitsPerSample };
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
// Resampling: band-limited interpolation with a Kaiser-windowed sinc, evaluated polyphase.
// Output sample n sits at input position t = n * from / to. With to/from = L/M in lowest terms,
// t's fractional part is one of L phases, so each phase's taps are computed once. When L is
// large (odd rates such as 44101 Hz), a table of MAX_PHASES phases is interpolated linearly.
// The cutoff is ROLLOFF x the lower Nyquist, so downsampling filters out what would alias.

/** Zero crossings of the sinc on each side: filter length vs. transition width. */
const ZERO_CROSSINGS = 16;
/** Kaiser beta 6.5 gives about 70 dB of stopband rejection: far below anything audible to whisper. */
const KAISER_BETA = 6.5;
/** Cutoff as a fraction of the lower Nyquist; the transition band ends just past it. */
const ROLLOFF = 0.9;
const MAX_PHASES = 1024;
const MAX_RATE = 10_000_000;

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-16) break;
  }
  return sum;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

function checkRate(rate: unknown, option: string): number {
  if (typeof rate !== "number") throw new TypeError(`Expected a number for ${option} but received ${typeof rate}`);
  if (!Number.isInteger(rate) || rate < 1 || rate > MAX_RATE) {
    throw new RangeError(`Expected an integer between 1 and ${MAX_RATE} for ${option} but received ${rate}`);
  }
  return rate;
}

/** A reusable converter between two sample rates; {@link process} fills any slice of the output. */
export class Resampler {
  readonly fromRate: number;
  readonly toRate: number;
  /** to/from = up/down in lowest terms. */
  readonly #up: number;
  readonly #down: number;
  readonly #phases: number;
  readonly #taps: number;
  readonly #half: number;
  /** (phases + 1) rows of taps; row p is for fractional position p/phases (the last row is 1.0). */
  readonly #table: Float32Array;

  constructor(fromRate: number, toRate: number) {
    this.fromRate = checkRate(fromRate, "fromRate");
    this.toRate = checkRate(toRate, "toRate");
    const g = gcd(fromRate, toRate);
    this.#up = toRate / g;
    this.#down = fromRate / g;
    const cutoff = ROLLOFF * Math.min(1, toRate / fromRate); // relative to the input Nyquist
    const reach = ZERO_CROSSINGS / cutoff; // filter half-length, in input samples
    this.#half = Math.ceil(reach);
    this.#taps = 2 * this.#half;
    this.#phases = Math.min(this.#up, MAX_PHASES);
    this.#table = new Float32Array((this.#phases + 1) * this.#taps);
    const i0Beta = besselI0(KAISER_BETA);
    const row = new Float64Array(this.#taps);
    for (let p = 0; p <= this.#phases; p++) {
      const frac = p / this.#phases;
      let sum = 0;
      for (let m = 0; m < this.#taps; m++) {
        // Tap m multiplies input k - half + 1 + m, which lies tau input samples before t.
        const tau = frac + this.#half - 1 - m;
        const x = tau / reach;
        let h = 0;
        if (Math.abs(x) < 1) {
          const arg = Math.PI * cutoff * tau;
          const sinc = arg === 0 ? 1 : Math.sin(arg) / arg;
          h = cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - x * x)) / i0Beta);
        }
        row[m] = h;
        sum += h;
      }
      // Unit DC gain for every phase, so a constant stays exactly constant.
      for (let m = 0; m < this.#taps; m++) this.#table[p * this.#taps + m] = row[m]! / sum;
    }
  }

  /** Output samples for `inputLength` input samples: ceil(inputLength * to / from). */
  outputLength(inputLength: number): number {
    return Math.ceil((inputLength * this.#up) / this.#down);
  }

  /** Computes output samples [start, end) from the whole `input` (reads past its ends as silence). */
  process(input: Float32Array, output: Float32Array, start = 0, end = output.length): void {
    if (this.#phases === this.#up) processExact(input, output, start, end, this.#up, this.#down, this.#half, this.#taps, this.#table);
    else processInterpolated(input, output, start, end, this.#up, this.#down, this.#half, this.#taps, this.#table, this.#phases);
  }
}

// Free functions with every value in a local: V8 keeps these loops tight.
function processExact(input: Float32Array, output: Float32Array, start: number, end: number, up: number, down: number, half: number, taps: number, table: Float32Array): void {
  const length = input.length;
  for (let n = start; n < end; n++) {
    const position = n * down; // in units of 1/up input samples; exact below 2^53
    const k = Math.floor(position / up);
    const row = (position - k * up) * taps;
    const base = k - half + 1;
    const lo = base < 0 ? -base : 0;
    const hi = length - base < taps ? length - base : taps;
    // Four accumulators: one long dependency chain of adds would be the bottleneck.
    let a0 = 0;
    let a1 = 0;
    let a2 = 0;
    let a3 = 0;
    let m = lo;
    for (; m + 3 < hi; m += 4) {
      const t = row + m;
      const i = base + m;
      a0 += table[t]! * input[i]!;
      a1 += table[t + 1]! * input[i + 1]!;
      a2 += table[t + 2]! * input[i + 2]!;
      a3 += table[t + 3]! * input[i + 3]!;
    }
    for (; m < hi; m++) a0 += table[row + m]! * input[base + m]!;
    output[n] = a0 + a1 + (a2 + a3);
  }
}

function processInterpolated(input: Float32Array, output: Float32Array, start: number, end: number, up: number, down: number, half: number, taps: number, table: Float32Array, phases: number): void {
  const length = input.length;
  for (let n = start; n < end; n++) {
    const position = n * down;
    const k = Math.floor(position / up);
    const phase = ((position - k * up) * phases) / up;
    const p = Math.floor(phase);
    const a = phase - p;
    const row = p * taps;
    const base = k - half + 1;
    const lo = base < 0 ? -base : 0;
    const hi = length - base < taps ? length - base : taps;
    let acc = 0;
    let accNext = 0;
    for (let m = lo; m < hi; m++) {
      const x = input[base + m]!;
      acc += table[row + m]! * x;
      accNext += table[row + taps + m]! * x;
    }
    output[n] = acc + a * (accNext - acc);
  }
}

/**
 * Resamples mono audio with a band-limited (Kaiser-windowed sinc) filter: no aliasing when
 * downsampling, no imaging when upsampling. Returns a new array of ceil(n * toRate / fromRate)
 * samples (a copy when the rates are equal).
 */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!(samples instanceof Float32Array)) throw new TypeError(`Expected a Float32Array for samples but received ${samples === null ? "null" : typeof samples}`);
  checkRate(fromRate, "fromRate");
  checkRate(toRate, "toRate");
  if (fromRate === toRate) return samples.slice();
  const resampler = new Resampler(fromRate, toRate);
  const out = new Float32Array(resampler.outputLength(samples.length));
  resampler.process(samples, out);
  return out;
}
