// Property-based tests: the WAV parser and PCM conversion never crash on arbitrary input, only
// ever throw their typed errors, and round-trip what they should.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { float32ToPcm16, pcm16ToFloat32 } from "../../lib/audio/pcm.js";
import { resample } from "../../lib/audio/resample.js";
import { AudioDecodeError, parseWav } from "../../lib/audio/wav.js";
import { encodeWav16 } from "../helpers/wav.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

function wavHeader(fields: { format: number; channels: number; rate: number; bits: number; dataBytes: number; extra?: Uint8Array }): Uint8Array {
  const extra = fields.extra ?? new Uint8Array();
  const b = Buffer.alloc(44 + extra.length);
  b.write("RIFF", 0, "ascii");
  b.writeUInt32LE(36 + fields.dataBytes, 4);
  b.write("WAVE", 8, "ascii");
  b.write("fmt ", 12, "ascii");
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(fields.format & 0xffff, 20);
  b.writeUInt16LE(fields.channels & 0xffff, 22);
  b.writeUInt32LE(fields.rate >>> 0, 24);
  b.writeUInt32LE(((fields.rate * fields.channels * fields.bits) / 8) >>> 0, 28);
  b.writeUInt16LE(((fields.channels * fields.bits) / 8) & 0xffff, 32);
  b.writeUInt16LE(fields.bits & 0xffff, 34);
  b.write("data", 36, "ascii");
  b.writeUInt32LE(fields.dataBytes >>> 0, 40);
  b.set(extra, 44);
  return b;
}

function onlyTypedErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (error) {
    if (!(error instanceof AudioDecodeError || error instanceof RangeError || error instanceof TypeError)) throw error;
  }
}

describe("WAV parser (property)", () => {
  it("throws only AudioDecodeError (or Range/TypeError) on arbitrary bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => onlyTypedErrors(() => parseWav(bytes))),
      { numRuns: RUNS },
    );
  });

  it("throws only typed errors on arbitrary headers with random data", () => {
    fc.assert(
      fc.property(
        fc.record({
          format: fc.constantFrom(0, 1, 2, 3, 6, 7, 0xfffe, 0xffff),
          channels: fc.integer({ min: 0, max: 70000 }),
          rate: fc.oneof(fc.constantFrom(0, 1, 8000, 16000, 44100, 48000, 0xffffffff), fc.nat()),
          bits: fc.constantFrom(0, 1, 4, 8, 12, 16, 24, 32, 64, 65535),
          dataBytes: fc.oneof(fc.nat(4096), fc.constant(0xffffffff)),
        }),
        fc.uint8Array({ maxLength: 4096 }),
        (fields, data) => onlyTypedErrors(() => parseWav(wavHeader({ ...fields, extra: data }))),
      ),
      { numRuns: RUNS },
    );
  });

  it("round-trips 16-bit mono 16 kHz audio within quantisation error", () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 1, maxLength: 4000, min: -1, max: 1, noNaN: true }), (samples) => {
        const parsed = parseWav(encodeWav16(samples));
        expect(parsed.sampleRate).toBe(16000);
        expect(parsed.samples.length).toBe(samples.length);
        for (let i = 0; i < samples.length; i++) expect(Math.abs(parsed.samples[i]! - samples[i]!)).toBeLessThanOrEqual(2 / 32768) // encoder scales by 32767, parser by 32768;
      }),
      { numRuns: Math.min(RUNS, 100) },
    );
  });

  it("truncating a valid WAV anywhere never crashes", () => {
    const wav = encodeWav16(new Float32Array(1000).map((_, i) => Math.sin(i / 10)));
    fc.assert(
      fc.property(fc.integer({ min: 0, max: wav.length }), (n) => onlyTypedErrors(() => parseWav(wav.subarray(0, n)))),
      { numRuns: RUNS },
    );
  });
});

describe("PCM conversion (property)", () => {
  it("pcm16ToFloat32 is exact (/32768), in range, and inverts float32ToPcm16", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -32768, max: 32767 }), { minLength: 1, maxLength: 2000 }), fc.nat(1), (ints, offset) => {
        // Unaligned views must work too (a Buffer slice at an odd offset).
        const backing = Buffer.alloc(ints.length * 2 + offset);
        for (const [i, v] of ints.entries()) backing.writeInt16LE(v, offset + i * 2);
        const bytes = backing.subarray(offset);
        const f = pcm16ToFloat32(bytes);
        expect(f.length).toBe(ints.length);
        for (const [i, v] of ints.entries()) expect(f[i]).toBe(v / 32768);
        expect(Buffer.compare(float32ToPcm16(f), bytes)).toBe(0);
      }),
      { numRuns: RUNS },
    );
  });

  it("rejects odd byte counts with RangeError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 999 }).filter((b) => b.length % 2 === 1), (bytes) => {
        expect(() => pcm16ToFloat32(bytes)).toThrow(RangeError);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("resampler (property)", () => {
  it("gives the expected length and stays bounded for any rate pair", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000),
        fc.float32Array({ minLength: 0, maxLength: 3000, min: -1, max: 1, noNaN: true }),
        (rate, samples) => {
          const out = resample(samples, rate, 16000);
          expect(Math.abs(out.length - Math.round((samples.length * 16000) / rate))).toBeLessThanOrEqual(1);
          for (const v of out) expect(Number.isFinite(v) && Math.abs(v) <= 1.5).toBe(true);
        },
      ),
      { numRuns: Math.min(RUNS, 100) },
    );
  });
});
