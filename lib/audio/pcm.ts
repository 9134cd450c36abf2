// 16-bit little-endian PCM <-> float samples. TingWu hands every backend s16le bytes and divides
// by 32768 (numpy `frombuffer(int16) / 32768.0`); so do we, so both give bit-identical floats.
import { describe } from "../util/describe.js";

/** The sample rate whisper works at (Hz): every decoder produces it, the model consumes it. */
export const WHISPER_SAMPLE_RATE = 16_000;

/** True on the little-endian hosts Node runs on almost everywhere (not s390x). */
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;


/**
 * Converts PCM16LE bytes to float samples in [-1, 1) (each sample / 32768). Reads the input in
 * place: an Int16Array view when the bytes are 2-aligned, a DataView when not; the only
 * allocation is the result. Throws TypeError for anything but a Buffer/Uint8Array, RangeError for
 * an empty input or an odd byte count.
 * @param option Name used in error messages. Default `"pcm"`.
 */
export function pcm16ToFloat32(pcm: Buffer | Uint8Array, option = "pcm"): Float32Array {
  if (!(pcm instanceof Uint8Array)) {
    throw new TypeError(`Expected a Buffer or Uint8Array of 16-bit little-endian PCM for ${option} but received ${describe(pcm)}`);
  }
  if (pcm.byteLength === 0) throw new RangeError(`Expected non-empty 16-bit PCM for ${option} but received 0 bytes`);
  if (pcm.byteLength % 2 !== 0) {
    throw new RangeError(`Expected an even number of bytes (whole 16-bit samples) for ${option} but received ${pcm.byteLength} bytes`);
  }
  const count = pcm.byteLength / 2;
  const out = new Float32Array(count);
  if (HOST_IS_LITTLE_ENDIAN && pcm.byteOffset % 2 === 0) {
    const ints = new Int16Array(pcm.buffer, pcm.byteOffset, count);
    for (let i = 0; i < count; i++) out[i] = ints[i]! / 32768;
  } else {
    // Buffers sliced at odd offsets (or a big-endian host) can't back an Int16Array.
    const view = new DataView(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    for (let i = 0; i < count; i++) out[i] = view.getInt16(i * 2, true) / 32768;
  }
  return out;
}

/**
 * Converts float samples to PCM16LE bytes: `round(v * 32768)` clamped to [-32768, 32767], NaN as 0,
 * so `pcm16ToFloat32(float32ToPcm16(x))` is the identity on values that came from PCM16.
 */
export function float32ToPcm16(samples: Float32Array | ArrayLike<number>, option = "samples"): Buffer {
  if (samples === null || typeof samples !== "object" || typeof (samples as ArrayLike<number>).length !== "number") {
    throw new TypeError(`Expected a Float32Array (or array of numbers) for ${option} but received ${describe(samples)}`);
  }
  const count = samples.length;
  const out = Buffer.alloc(count * 2);
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < count; i++) {
    const v = Number(samples[i]);
    const scaled = Number.isNaN(v) ? 0 : Math.round(v * 32768);
    view.setInt16(i * 2, scaled > 32767 ? 32767 : Math.max(scaled, -32768), true);
  }
  return out;
}
