// The tests' (and the benchmark's) WAV files come from the library's own writer (encodeWavPcm16, on
// float32ToPcm16, TingWu's scale), so a file and the samples it came from agree exactly with what
// the addon is given.
export { encodeWavPcm16 as encodeWav16 } from "../../lib/audio/wav.js";
