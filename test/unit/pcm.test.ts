import { describe, expect, it } from "vitest";
import { float32ToPcm16, pcm16ToFloat32 } from "../../lib/audio/pcm.js";

/** s16le bytes for the given integers, written independently of the code under test. */
function s16le(values: number[]): Buffer {
  const out = Buffer.alloc(values.length * 2);
  for (const [i, v] of values.entries()) out.writeInt16LE(v, i * 2);
  return out;
}

describe("pcm16ToFloat32", () => {
  const values = [0, 1, -1, 16384, -16384, 32767, -32768, 12345, -54];

  it("divides each little-endian sample by 32768", () => {
    const out = pcm16ToFloat32(s16le(values));
    expect(out).toBeInstanceOf(Float32Array);
    expect(Array.from(out)).toEqual(values.map((v) => Math.fround(v / 32768)));
    expect(out[6]).toBe(-1);
    expect(out[5]).toBeLessThan(1);
  });

  it("gives the same result from an unaligned view (odd byteOffset)", () => {
    const bytes = s16le(values);
    const backing = new Uint8Array(bytes.length + 1);
    backing.set(bytes, 1);
    const unaligned = backing.subarray(1);
    expect(unaligned.byteOffset % 2).toBe(1);
    expect(Array.from(pcm16ToFloat32(unaligned))).toEqual(Array.from(pcm16ToFloat32(bytes)));
  });

  it("reads only its own slice of a shared buffer", () => {
    const bytes = s16le([100, 200, 300, 400]);
    expect(Array.from(pcm16ToFloat32(bytes.subarray(2, 6)))).toEqual([200 / 32768, 300 / 32768].map(Math.fround));
  });

  it("accepts a plain Uint8Array", () => {
    expect(Array.from(pcm16ToFloat32(new Uint8Array([0x00, 0x80, 0xff, 0x7f])))).toEqual([-1, Math.fround(32767 / 32768)]);
  });

  it("rejects odd, empty and non-byte input with errors that say so", () => {
    expect(() => pcm16ToFloat32(Buffer.alloc(3))).toThrow(new RangeError("Expected an even number of bytes (whole 16-bit samples) for pcm but received 3 bytes"));
    expect(() => pcm16ToFloat32(Buffer.alloc(0))).toThrow(RangeError);
    expect(() => pcm16ToFloat32(Buffer.alloc(0))).toThrow(/0 bytes/);
    expect(() => pcm16ToFloat32(new Int16Array(4) as never)).toThrow(TypeError);
    expect(() => pcm16ToFloat32("abcd" as never)).toThrow(/received "abcd"/);
    expect(() => pcm16ToFloat32(null as never)).toThrow(TypeError);
  });
});

describe("float32ToPcm16", () => {
  it("inverts pcm16ToFloat32 exactly for every 16-bit value", () => {
    const all = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i - 32768;
    const bytes = Buffer.from(all.buffer);
    expect(float32ToPcm16(pcm16ToFloat32(bytes)).equals(bytes)).toBe(true);
  });

  it("clamps out-of-range values and maps NaN to 0", () => {
    const out = float32ToPcm16(new Float32Array([2, -2, 1, Number.NaN, 0.5]));
    expect([0, 1, 2, 3, 4].map((i) => out.readInt16LE(i * 2))).toEqual([32767, -32768, 32767, 0, 16384]);
  });
});
