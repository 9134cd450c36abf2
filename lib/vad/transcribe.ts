// Long-audio transcription over VAD chunks: chunks are decoded by up to `concurrency` workers
// (each on its own state of the model's pool), results come back in audio order with timestamps
// in the original audio's time, and `onSegment` streams in that order too.
import { AbortError } from "../errors.js";
import type { Segment, TranscribeResult } from "../whisper.js";
import type { Chunk } from "./chunks.js";

/** Decodes one chunk's audio; `onSegment` gets chunk-relative segments. */
export type ChunkRunner = (index: number, prompt: string | undefined, signal: AbortSignal, onSegment: ((s: Segment) => void) | undefined) => Promise<TranscribeResult>;

export interface ChunkedOptions {
  /** Workers decoding chunks at once; 1 carries each chunk's text into the next one's prompt. */
  concurrency: number;
  /** The caller's own prompt, put before any carried text. */
  initialPrompt: string;
  /** Where the transcribed region starts in the original audio (ms). */
  offsetMs: number;
  signal: AbortSignal;
  onSegment: ((s: Segment) => void) | undefined;
  onProgress: ((percent: number) => void) | undefined;
}

/** The text carried into the next chunk's prompt: the tail of the previous chunk's text. */
const CARRIED_PROMPT_CHARS = 400;

const SAMPLES_PER_MS = 16;

/** Moves a chunk-relative segment to original-audio time, clamped to the chunk. */
export function shiftSegment(s: Segment, chunk: Chunk, offsetMs: number): Segment {
  const base = offsetMs + Math.floor(chunk.start / SAMPLES_PER_MS);
  const limit = offsetMs + Math.ceil(chunk.end / SAMPLES_PER_MS);
  const at = (ms: number) => Math.min(base + ms, limit);
  const out: Segment = { ...s, start: at(s.start), end: at(s.end) };
  if (s.tokens) out.tokens = s.tokens.map((t) => ({ ...t, start: t.start < 0 ? t.start : at(t.start), end: t.end < 0 ? t.end : at(t.end) }));
  return out;
}

export interface ChunkedResult {
  segments: Segment[];
  results: (TranscribeResult | undefined)[];
}

/**
 * Runs `run` over every chunk. Rejects with the first failure after every started chunk has
 * settled (the others are aborted), so nothing keeps running once the promise settles.
 */
export async function transcribeChunks(chunks: readonly Chunk[], run: ChunkRunner, o: ChunkedOptions): Promise<ChunkedResult> {
  const n = chunks.length;
  const results: (TranscribeResult | undefined)[] = new Array(n).fill(undefined);
  const streamed: Segment[][] = chunks.map(() => []);
  const emitted = new Array<number>(n).fill(0);
  let head = 0;
  const totalSamples = chunks.reduce((a, c) => a + (c.end - c.start), 0) || 1;
  let doneSamples = 0;
  const internal = new AbortController();
  const onAbort = () => internal.abort(o.signal.reason);
  if (o.signal.aborted) onAbort();
  o.signal.addEventListener("abort", onAbort, { once: true });

  // Streams everything that is final and in order: the head chunk's segments so far, then the
  // following chunks once the ones before them are done.
  const flush = () => {
    if (!o.onSegment) return;
    while (head < n) {
      const list = streamed[head]!;
      while (emitted[head]! < list.length) o.onSegment(list[emitted[head]!++]!);
      if (!results[head]) return;
      head++;
    }
  };

  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (next < n && !failure && !internal.signal.aborted) {
      const i = next++;
      const chunk = chunks[i]!;
      let prompt: string | undefined = o.initialPrompt || undefined;
      if (o.concurrency === 1 && i > 0) {
        const carried = (results[i - 1]?.text ?? "").trim().slice(-CARRIED_PROMPT_CHARS);
        if (carried) prompt = o.initialPrompt ? `${o.initialPrompt} ${carried}` : carried;
      }
      const onSegment = o.onSegment
        ? (s: Segment) => {
            streamed[i]!.push(shiftSegment(s, chunk, o.offsetMs));
            flush();
          }
        : undefined;
      try {
        const r = await run(i, prompt, internal.signal, onSegment);
        results[i] = r;
        // Segments the native side never streamed (none, normally) still reach onSegment.
        if (o.onSegment && streamed[i]!.length < r.segments.length) {
          streamed[i] = r.segments.map((s) => shiftSegment(s, chunk, o.offsetMs));
        }
        doneSamples += chunk.end - chunk.start;
        flush();
        o.onProgress?.(Math.round((100 * doneSamples) / totalSamples));
      } catch (error) {
        if (!failure) failure = { error };
        internal.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, n)) }, worker));
  } finally {
    o.signal.removeEventListener("abort", onAbort);
  }
  if (failure) throw failure.error;
  if (o.signal.aborted) throw new AbortError("The transcription was aborted", { cause: o.signal.reason });
  const segments: Segment[] = [];
  results.forEach((r, i) => {
    for (const s of r?.segments ?? []) segments.push(shiftSegment(s, chunks[i]!, o.offsetMs));
  });
  return { segments, results };
}
