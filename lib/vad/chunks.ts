// Speech segments -> decoding chunks. Whisper encodes 30 s windows whatever the input length, so
// neighbouring speech is packed into chunks of up to `maxChunkSamples`; a long pause ends a chunk
// so that each chunk starts and ends in speech. Inside a chunk the audio between speech segments
// is silenced (zeroed), which keeps the chunk's time axis linear (timestamps map back by adding
// the chunk's start) while Whisper never hears the noise it would invent text for.
import { WHISPER_SAMPLE_RATE } from "../audio/pcm.js";
import type { SampleRange } from "./segments.js";

export interface Chunk extends SampleRange {
  /** The speech segments inside [start, end), in order. */
  speech: SampleRange[];
}

/** Pauses longer than this always end a chunk (samples; 3 s at 16 kHz). */
export const MAX_PAUSE_IN_CHUNK = 3 * WHISPER_SAMPLE_RATE;

/** Groups speech segments (sorted, non-overlapping) into chunks of at most `maxChunkSamples`. */
export function planChunks(speech: readonly SampleRange[], maxChunkSamples: number, maxPause = MAX_PAUSE_IN_CHUNK): Chunk[] {
  const chunks: Chunk[] = [];
  let current: Chunk | undefined;
  for (const s of speech) {
    if (current && s.end - current.start <= maxChunkSamples && s.start - current.end <= maxPause) {
      current.end = s.end;
      current.speech.push({ ...s });
    } else {
      current = { start: s.start, end: s.end, speech: [{ ...s }] };
      chunks.push(current);
    }
  }
  return chunks;
}

/** The chunk's audio: a copy of [start, end) with everything outside its speech segments zeroed. */
export function chunkAudio(audio: Float32Array, chunk: Chunk): Float32Array {
  const out = new Float32Array(chunk.end - chunk.start);
  for (const s of chunk.speech) out.set(audio.subarray(s.start, s.end), s.start - chunk.start);
  return out;
}
