import { describe, expect, it } from "vitest";
import { AudioDecodeError, parseWav, resample, Resampler } from "../../lib/audio/wav.js";

// ---- a WAV writer written for the tests, independent of the parser -------------------------

interface WavSpec {
  sampleRate: number;
  /** One array per channel, values in [-1, 1]. */
  channels: number[][];
  bits: 8 | 16 | 24 | 32 | 64;
  float?: boolean;
  extensible?: boolean;
  /** Chunks written before "fmt ", between "fmt " and "data", and after "data". */
  before?: Buffer[];
  between?: Buffer[];
  after?: Buffer[];
  /** Overrides the data chunk's size field. */
  dataSize?: number;
  /** Put the fmt chunk after the data chunk. */
  fmtLast?: boolean;
}

function chunk(id: string, body: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.write(id, 0, "ascii");
  header.writeUInt32LE(body.length, 4);
  return Buffer.concat([header, body, body.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** The integer each writer stores for v, and the float the parser must read back from it. */
function quantize(v: number, bits: number, float: boolean): { stored: number; read: number } {
  if (float) return { stored: v, read: bits === 32 ? Math.fround(v) : v };
  const scale = 2 ** (bits - 1);
  const q = Math.max(-scale, Math.min(scale - 1, Math.round(v * scale)));
  return { stored: bits === 8 ? q + 128 : q, read: q / scale };
}

function encodeWav(spec: WavSpec): Buffer {
  const nch = spec.channels.length;
  const frames = spec.channels[0]!.length;
  const bytes = spec.bits / 8;
  const data = Buffer.alloc(frames * nch * bytes);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < nch; c++) {
      const at = (f * nch + c) * bytes;
      const { stored } = quantize(spec.channels[c]![f]!, spec.bits, !!spec.float);
      if (spec.float) {
        if (spec.bits === 32) data.writeFloatLE(stored, at);
        else data.writeDoubleLE(stored, at);
      } else if (spec.bits === 8) data.writeUInt8(stored, at);
      else if (spec.bits === 16) data.writeInt16LE(stored, at);
      else if (spec.bits === 24) data.writeIntLE(stored, at, 3);
      else data.writeInt32LE(stored, at);
    }
  }
  const code = spec.float ? 3 : 1;
  const fmt = Buffer.alloc(spec.extensible ? 40 : 16);
  fmt.writeUInt16LE(spec.extensible ? 0xfffe : code, 0);
  fmt.writeUInt16LE(nch, 2);
  fmt.writeUInt32LE(spec.sampleRate, 4);
  fmt.writeUInt32LE(spec.sampleRate * nch * bytes, 8);
  fmt.writeUInt16LE(nch * bytes, 12);
  fmt.writeUInt16LE(spec.bits, 14);
  if (spec.extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(spec.bits, 18);
    fmt.writeUInt32LE(0, 20);
    // KSDATAFORMAT_SUBTYPE_{PCM,IEEE_FLOAT}: {0000000X-0000-0010-8000-00AA00389B71}
    Buffer.from([code, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71]).copy(fmt, 24);
  }
  const dataChunk = chunk("data", data);
  if (spec.dataSize !== undefined) dataChunk.writeUInt32LE(spec.dataSize, 4);
  const fmtChunk = chunk("fmt ", fmt);
  const body = spec.fmtLast
    ? [...(spec.before ?? []), dataChunk, ...(spec.between ?? []), fmtChunk]
    : [...(spec.before ?? []), fmtChunk, ...(spec.between ?? []), dataChunk, ...(spec.after ?? [])];
  const riff = Buffer.alloc(12);
  riff.write("RIFF", 0, "ascii");
  riff.writeUInt32LE(4 + body.reduce((n, b) => n + b.length, 0), 4);
  riff.write("WAVE", 8, "ascii");
  return Buffer.concat([riff, ...body]);
}

/** Deterministic noise in [-0.9, 0.9] (a 32-bit LCG), so no test depends on Math.random. */
function noise(length: number, seed: number): number[] {
  let state = seed >>> 0;
  return Array.from({ length }, () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return (state / 2 ** 32) * 1.8 - 0.9;
  });
}

function expectedMono(spec: WavSpec): number[] {
  const frames = spec.channels[0]!.length;
  return Array.from({ length: frames }, (_, f) => {
    let sum = 0;
    for (const ch of spec.channels) sum += quantize(ch[f]!, spec.bits, !!spec.float).read;
    return Math.fround(sum / spec.channels.length);
  });
}

function expectSamples(actual: Float32Array, expected: number[]): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(1e-6);
}

function decodeError(bytes: Uint8Array): AudioDecodeError {
  try {
    parseWav(bytes);
  } catch (error) {
    expect(error).toBeInstanceOf(AudioDecodeError);
    return error as AudioDecodeError;
  }
  throw new Error("parseWav accepted the input");
}

// ---- parsing -------------------------------------------------------------------------------

describe("parseWav", () => {
  const formats = [
    { bits: 8, float: false },
    { bits: 16, float: false },
    { bits: 24, float: false },
    { bits: 32, float: false },
    { bits: 32, float: true },
    { bits: 64, float: true },
  ] as const;

  for (const { bits, float } of formats) {
    for (const extensible of [false, true]) {
      for (const nch of [1, 2, 3, 6]) {
        it(`decodes ${float ? "float" : "PCM"} ${bits}-bit, ${nch} channel(s)${extensible ? ", extensible" : ""}`, () => {
          const spec: WavSpec = {
            sampleRate: 22_050,
            bits,
            float,
            extensible,
            channels: Array.from({ length: nch }, (_, c) => noise(301, 7 + c)),
          };
          const wav = parseWav(encodeWav(spec));
          expect(wav).toMatchObject({ sampleRate: 22_050, channels: nch, bitsPerSample: bits, format: float ? "float" : "pcm", formatTag: extensible ? 0xfffe : float ? 3 : 1, truncated: false });
          expectSamples(wav.samples, expectedMono(spec));
        });
      }
    }
  }

  it("decodes the extreme values of each integer depth", () => {
    for (const bits of [8, 16, 24, 32] as const) {
      const wav = parseWav(encodeWav({ sampleRate: 8000, bits, channels: [[-1, 0, 1]] }));
      expect(wav.samples[0]).toBe(-1);
      expect(wav.samples[1]).toBe(0);
      expect(wav.samples[2]).toBeCloseTo(1 - 2 ** (1 - bits), 6);
    }
  });

  it("skips unknown chunks, including odd-sized ones with a pad byte", () => {
    const spec: WavSpec = {
      sampleRate: 16_000,
      bits: 16,
      channels: [noise(99, 1)],
      before: [chunk("JUNK", Buffer.alloc(27, 0x55))],
      between: [chunk("LIST", Buffer.from("INFOISFT\x05\x00\x00\x00Lavf\x00", "latin1")), chunk("fact", Buffer.alloc(4))],
      after: [chunk("id3 ", Buffer.alloc(11, 1))],
    };
    expectSamples(parseWav(encodeWav(spec)).samples, expectedMono(spec));
  });

  it("finds a fmt chunk that comes after the data chunk", () => {
    const spec: WavSpec = { sampleRate: 16_000, bits: 16, channels: [noise(50, 3)], fmtLast: true };
    expectSamples(parseWav(encodeWav(spec)).samples, expectedMono(spec));
  });

  it("reads to the end of the file when the data size is 0 or 0xFFFFFFFF (streamed WAVs)", () => {
    for (const dataSize of [0, 0xffffffff]) {
      const spec: WavSpec = { sampleRate: 16_000, bits: 16, channels: [noise(120, 5), noise(120, 6)], dataSize };
      const wav = parseWav(encodeWav(spec));
      expect(wav.truncated).toBe(false);
      expectSamples(wav.samples, expectedMono(spec));
    }
  });

  it("decodes the whole frames of a cut-off upload and says it was truncated", () => {
    const spec: WavSpec = { sampleRate: 16_000, bits: 24, channels: [noise(100, 9), noise(100, 10)] };
    const full = encodeWav(spec);
    const cut = full.subarray(0, full.length - 6 * 10 - 4); // 10 frames and part of another missing
    const wav = parseWav(cut);
    expect(wav.truncated).toBe(true);
    expectSamples(wav.samples, expectedMono(spec).slice(0, 89));
  });

  it("decodes from a Uint8Array view at an odd offset", () => {
    const spec: WavSpec = { sampleRate: 16_000, bits: 16, channels: [noise(64, 11)] };
    const bytes = encodeWav(spec);
    const backing = new Uint8Array(bytes.length + 3);
    backing.set(bytes, 3);
    expectSamples(parseWav(backing.subarray(3)).samples, expectedMono(spec));
  });

  describe("errors", () => {
    const good = () => encodeWav({ sampleRate: 16_000, bits: 16, channels: [noise(10, 1)] });

    it("NOT_WAV for other files and tiny inputs", () => {
      expect(decodeError(Buffer.from("ID3\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00", "latin1")).code).toBe("NOT_WAV");
      expect(decodeError(Buffer.from("RIFF\x10\x00\x00\x00AVI LIST", "latin1")).code).toBe("NOT_WAV");
      expect(decodeError(new Uint8Array(0)).code).toBe("NOT_WAV");
    });

    it("TRUNCATED when the header or fmt chunk is cut", () => {
      expect(decodeError(good().subarray(0, 8)).message).toMatch(/Truncated WAV: the RIFF header needs 12 bytes/);
      expect(decodeError(good().subarray(0, 30)).code).toBe("TRUNCATED");
      expect(decodeError(good().subarray(0, 12)).code).toBe("TRUNCATED");
    });

    it("INVALID_WAV for impossible fmt values and a missing data chunk", () => {
      const zeroChannels = good();
      zeroChannels.writeUInt16LE(0, 22);
      expect(decodeError(zeroChannels).message).toMatch(/0 channels/);
      const zeroRate = good();
      zeroRate.writeUInt32LE(0, 24);
      expect(decodeError(zeroRate).code).toBe("INVALID_WAV");
      const smallAlign = good();
      smallAlign.writeUInt16LE(1, 32);
      expect(decodeError(smallAlign).message).toMatch(/block align 1/);
      const noData = good();
      noData.write("dat_", 36, "ascii");
      expect(decodeError(noData).code).toBe("INVALID_WAV");
      const shortFmt = encodeWav({ sampleRate: 16_000, bits: 16, channels: [[0]] });
      shortFmt.writeUInt32LE(14, 16);
      expect(decodeError(shortFmt).code).toBe("INVALID_WAV");
    });

    it("UNSUPPORTED_FORMAT for encodings ffmpeg should handle", () => {
      const adpcm = good();
      adpcm.writeUInt16LE(2, 20);
      expect(decodeError(adpcm).message).toMatch(/format 0x0002/);
      const twelveBit = good();
      twelveBit.writeUInt16LE(12, 34);
      expect(decodeError(twelveBit).code).toBe("UNSUPPORTED_FORMAT");
      const rf64 = good();
      rf64.write("RF64", 0, "ascii");
      expect(decodeError(rf64).code).toBe("UNSUPPORTED_FORMAT");
    });
  });
});

// ---- resampling ----------------------------------------------------------------------------

function tone(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** The middle half of x, away from the zero-padded edges. */
const middle = (x: Float32Array) => x.subarray(Math.floor(x.length / 4), Math.floor((3 * x.length) / 4));

function rms(x: Float32Array): number {
  let sum = 0;
  for (const v of x) sum += v * v;
  return Math.sqrt(sum / x.length);
}

/** Amplitude of the hz component (projection on sin/cos). */
function amplitudeAt(x: Float32Array, hz: number, rate: number): number {
  let re = 0;
  let im = 0;
  for (let i = 0; i < x.length; i++) {
    re += x[i]! * Math.cos((2 * Math.PI * hz * i) / rate);
    im += x[i]! * Math.sin((2 * Math.PI * hz * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / x.length;
}

/** Frequency from rising zero crossings (independent of the projection above). */
function zeroCrossingHz(x: Float32Array, rate: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 1; i < x.length; i++) {
    if (x[i - 1]! < 0 && x[i]! >= 0) {
      const at = i - 1 + -x[i - 1]! / (x[i]! - x[i - 1]!);
      if (first < 0) first = at;
      else count++;
      last = at;
    }
  }
  return (count * rate) / (last - first);
}

describe("resample", () => {
  for (const rate of [8000, 11_025, 22_050, 32_000, 44_100, 48_000, 96_000]) {
    it(`${rate} Hz -> 16 kHz keeps the length, a 1 kHz tone's frequency and its amplitude`, () => {
      const input = tone(1000, rate, 1.3);
      const out = resample(input, rate, 16_000);
      expect(out.length).toBe(Math.ceil((input.length * 16_000) / rate));
      const mid = middle(out);
      expect(zeroCrossingHz(mid, 16_000)).toBeCloseTo(1000, 0);
      expect(amplitudeAt(mid, 1000, 16_000)).toBeCloseTo(0.5, 3);
      // Nothing else: the residual after removing the tone is tiny.
      expect(rms(mid)).toBeCloseTo(0.5 / Math.SQRT2, 3);
    });
  }

  for (const rate of [22_050, 44_100, 48_000]) {
    for (const hz of [9000, 12_000]) {
      if (hz >= rate / 2) continue;
      it(`${rate} Hz -> 16 kHz removes a ${hz} Hz tone (above the new Nyquist) instead of aliasing it`, () => {
        const input = tone(hz, rate, 1);
        const out = middle(resample(input, rate, 16_000));
        // At least 60 dB down.
        expect(rms(out)).toBeLessThan((0.5 / Math.SQRT2) * 1e-3);
        // Plain sample dropping (what this test must rule out) would fold it to 16000 - hz.
        const dropped = new Float32Array(Math.floor((input.length * 16_000) / rate));
        for (let i = 0; i < dropped.length; i++) dropped[i] = input[Math.floor((i * rate) / 16_000)]!;
        expect(amplitudeAt(middle(dropped), 16_000 - hz, 16_000)).toBeGreaterThan(0.2);
      });
    }
  }

  it("8 kHz -> 16 kHz adds no image of the tone above the old Nyquist", () => {
    const out = middle(resample(tone(1000, 8000, 1), 8000, 16_000));
    expect(amplitudeAt(out, 7000, 16_000)).toBeLessThan(1e-3);
  });

  it("keeps a constant signal constant", () => {
    const out = middle(resample(new Float32Array(44_100).fill(0.25), 44_100, 16_000));
    for (const v of out) expect(v).toBeCloseTo(0.25, 5);
  });

  it("handles rates whose ratio needs interpolated phases (44101 Hz)", () => {
    const out = resample(tone(1000, 44_101, 1), 44_101, 16_000);
    expect(out.length).toBe(Math.ceil((44_101 * 16_000) / 44_101));
    expect(amplitudeAt(middle(out), 1000, 16_000)).toBeCloseTo(0.5, 3);
  });

  it("gives the same samples when computed in slices", () => {
    const input = tone(440, 48_000, 0.5);
    const whole = resample(input, 48_000, 16_000);
    const r = new Resampler(48_000, 16_000);
    const sliced = new Float32Array(r.outputLength(input.length));
    for (let s = 0; s < sliced.length; s += 1000) r.process(input, sliced, s, Math.min(sliced.length, s + 1000));
    expect(sliced).toEqual(whole);
  });

  it("copies when the rates are equal, and handles tiny inputs", () => {
    const input = new Float32Array([0.1, 0.2]);
    const out = resample(input, 16_000, 16_000);
    expect(out).toEqual(input);
    expect(out).not.toBe(input);
    expect(resample(new Float32Array(0), 44_100, 16_000).length).toBe(0);
    expect(resample(new Float32Array([1]), 48_000, 16_000).length).toBe(1);
  });

  it("rejects bad rates naming the option", () => {
    expect(() => resample(new Float32Array(1), 0, 16_000)).toThrow(/fromRate/);
    expect(() => resample(new Float32Array(1), 44_100, 16_000.5)).toThrow(/toRate/);
    expect(() => resample([1, 2] as never, 8000, 16_000)).toThrow(TypeError);
  });
});

describe("parseWav bounds (issue 12)", () => {
  it("refuses sample rates outside 1000-384000 Hz and checks the duration before decoding", () => {
    for (const rate of [1, 999, 384_001]) {
      expect(() => parseWav(encodeWav({ sampleRate: rate, bits: 16, channels: [[0, 0]] }))).toThrow(
        new AudioDecodeError(`Invalid WAV: the fmt chunk says a sample rate of ${rate} Hz; 1000 to 384000 Hz are accepted`, "INVALID_WAV"),
      );
    }
    expect(parseWav(encodeWav({ sampleRate: 1000, bits: 16, channels: [[0, 0]] })).sampleRate).toBe(1000);
    const twoSeconds = encodeWav({ sampleRate: 1000, bits: 16, channels: [new Array(2000).fill(0)] });
    expect(() => parseWav(twoSeconds, { maxDurationMs: 1999 })).toThrow(/^The audio lasts 2000 ms, more than the allowed 1999 ms$/);
    expect(parseWav(twoSeconds, { maxDurationMs: 2000 }).samples.length).toBe(2000);
  });
});
