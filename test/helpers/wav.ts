// The one WAV writer of the tests (and the benchmark): a 16-bit PCM header around the library's
// own float -> PCM16 conversion (float32ToPcm16, TingWu's scale), so a file and the samples it came
// from agree exactly with what the addon is given.
import { float32ToPcm16 } from "../../lib/audio/pcm.js";

/** Encodes float samples (interleaved when `channels` > 1) as a 16-bit PCM WAV file. */
export function encodeWav16(samples: Float32Array, sampleRate = 16_000, channels = 1): Buffer {
  const data = float32ToPcm16(samples);
  const header = Buffer.alloc(44);
  header.write("RIFF", 0, "ascii");
  header.writeUInt32LE(36 + data.length, 4);
  header.write("WAVE", 8, "ascii");
  header.write("fmt ", 12, "ascii");
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(channels, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * channels * 2, 28);
  header.writeUInt16LE(channels * 2, 32);
  header.writeUInt16LE(16, 34);
  header.write("data", 36, "ascii");
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
