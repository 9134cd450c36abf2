// The tests' (and the benchmark's) WAV files: the library's own writer (encodeWavPcm16, on
// float32ToPcm16, TingWu's scale), so a file and the samples it came from agree exactly with what
// the addon is given.
import { encodeWavPcm16 } from "../../lib/audio/wav.js";

/** Encodes float samples (interleaved when `channels` > 1) as a 16-bit PCM WAV file. */
export function encodeWav16(samples: Float32Array, sampleRate = 16_000, channels = 1): Buffer {
  return encodeWavPcm16(samples, sampleRate, channels);
}
