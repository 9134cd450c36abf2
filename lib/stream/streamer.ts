// The streaming engine: PCM chunks in, "partial" and "final" events out. Each decode transcribes
// the utterance's audio buffer again (on the model's state pool, off the JS thread);
// LocalAgreement-2 confirms the words two decodes agree on; confirmed text is fed back as prompt
// once its audio is cut from the buffer; an energy gate skips decodes while nobody speaks.
import { EventEmitter } from "node:events";
import { z } from "zod";
import { pcm16ToFloat32 } from "../audio/pcm.js";
import { AbortError, WhisperError } from "../errors.js";
import { normalizeLanguage } from "../languages.js";
import { WHISPER_SAMPLE_RATE } from "../audio/pcm.js";
import { checkSamples, MAX_DECODERS, MAX_THREADS, parseOptions } from "../options.js";
import type { TranscribeOptions, TranscribeResult } from "../whisper.js";
import { LocalAgreement } from "./agreement.js";
import { EnergyGate } from "./energy.js";
import { SampleBuffer } from "./samples.js";
import { endsSentence, joinWords, sentencesOf, wordsOf } from "./words.js";
import type { StreamSentence, Word } from "./words.js";

export type { StreamSentence, Word } from "./words.js";

/** Options of {@link Streamer} (`model.stream(options)`). */
export interface StreamOptions {
  /** Spoken language: `"auto"` (detected on the utterance's first decode, then kept) or a code/English name. Default `"auto"`. */
  language?: string;
  /** Translate to English. Default `false`. */
  translate?: boolean;
  /** Fixed decoder prompt (names, hotwords) put before the confirmed-text context. Default none. */
  initialPrompt?: string;
  /** Compute threads per decode. Default: the model's `threads`. */
  threads?: number;
  /** Beam width of every decode, 1 to 8; 1 is greedy. Default `1`. */
  beamSize?: number;
  /** Emit partials while audio arrives (`false`: one decode of the whole utterance at {@link Streamer.end}, TingWu's `offline` mode). Default `true`. */
  partials?: boolean;
  /** New audio needed before the next partial decode, in ms (100 to 30000). Default `1000`. */
  stepMs?: number;
  /** Buffer length from which the buffer is cut at the last confirmed sentence or segment end, in ms. Default `10000`. */
  trimAfterMs?: number;
  /** Longest buffer; past it the buffer is cut at the last confirmed word, and the words before are confirmed if none are. Default `25000`. */
  maxBufferMs?: number;
  /** Longest utterance (with `partials: false` the whole utterance is kept); a longer one throws RangeError from write. Default `600000`. */
  maxUtteranceMs?: number;
  /** RMS (samples in [-1, 1]) above which a 20 ms frame counts as voice; 0 turns the gate off. Default `0.005` (about -46 dBFS). */
  energyThreshold?: number;
}

/** A partial result: the utterance so far. `text === stable + unstable`. */
export interface StreamPartial {
  /** Everything heard in this utterance so far. */
  text: string;
  /** Confirmed prefix: never changes later, only grows (LocalAgreement). */
  stable: string;
  /** The rest of the latest hypothesis; may still change. */
  unstable: string;
  /** Where the utterance began, in ms from the start of the stream. */
  startMs: number;
  /** Audio covered by this partial, in ms from the start of the stream. */
  endMs: number;
}

/** The final result of an utterance. */
export interface StreamFinal {
  /** The utterance's text; starts with the last partial's `stable`. */
  text: string;
  /** Sentences with ms times from the start of the stream. */
  sentences: StreamSentence[];
  /** The language used or detected. */
  language: string | undefined;
  startMs: number;
  endMs: number;
}

/** Work counters, for tests and benchmarks. */
export interface StreamStats {
  /** Decodes run (partial and final). */
  decodes: number;
  /** Decodes the energy gate saved. */
  skipped: number;
  /** Milliseconds of audio received. */
  audioMs: number;
  /** Milliseconds whisper.cpp spent on this stream's decodes (their `timings.computeMs`). */
  computeMs: number;
}

/** The model surface a Streamer needs (Whisper has it). */
export interface StreamDecoder {
  transcribe(samples: Float32Array, options: TranscribeOptions): Promise<TranscribeResult>;
}

const streamOptionsSchema = z.strictObject({
  language: z.string().optional(),
  translate: z.boolean().optional(),
  initialPrompt: z.string().optional(),
  threads: z.number().int().min(1).max(MAX_THREADS).optional(),
  beamSize: z.number().int().min(1).max(MAX_DECODERS).optional(),
  partials: z.boolean().optional(),
  stepMs: z.number().int().min(100).max(30_000).optional(),
  trimAfterMs: z.number().int().min(1000).max(3_600_000).optional(),
  maxBufferMs: z.number().int().min(2000).max(3_600_000).optional(),
  maxUtteranceMs: z.number().int().min(1000).max(86_400_000).optional(),
  energyThreshold: z.number().min(0).max(1).optional(),
});

/** Samples per ms. */
const PER_MS = WHISPER_SAMPLE_RATE / 1000;
/** whisper.cpp skips input shorter than 1 s; shorter buffers are padded with silence. */
const MIN_DECODE_SAMPLES = WHISPER_SAMPLE_RATE;
/** Silence kept before speech when a silent buffer is dropped, so an onset isn't clipped. */
const KEEP_BEFORE_VOICE = 300 * PER_MS;
/** Characters of confirmed text given as prompt (Whisper's prompt holds about 224 tokens). */
const PROMPT_CHARS = 200;

interface Utterance {
  start: number; // absolute sample index
  buffer: SampleBuffer;
  agreement: LocalAgreement;
  /** Confirmed words whose audio is gone from the buffer: the prompt. */
  promptWords: number;
  /** Absolute sample index the last decode covered up to. */
  decodedTo: number;
  /** Decodes since the last voiced audio. */
  silentDecodes: number;
  language: string | undefined;
  lastPartial: string;
}

type Events = {
  partial: [StreamPartial];
  final: [StreamFinal];
  error: [Error];
};

/**
 * Real-time transcription of one audio stream. Write 16 kHz mono audio with {@link write} (floats)
 * or {@link writePcm16} (PCM16LE bytes); listen to `partial` and `final`; call {@link end} at the end
 * of each utterance and {@link close} when done. Many streamers can share one model: decodes queue
 * for the model's states (`concurrency`).
 */
export class Streamer extends EventEmitter<Events> {
  readonly #model: StreamDecoder;
  readonly #opts: Required<Omit<StreamOptions, "language" | "initialPrompt" | "threads">> & { language: string; initialPrompt: string; threads: number | undefined };
  readonly #gate: EnergyGate;
  #received = 0; // samples since the stream began
  #utterance: Utterance;
  #decoding: Promise<void> | undefined;
  #finishing: Promise<unknown> = Promise.resolve();
  #unfinished = 0; // utterances ended whose final is not out yet
  #abort = new AbortController();
  #closed = false;
  #failure: Error | undefined;
  readonly #stats: StreamStats = { decodes: 0, skipped: 0, audioMs: 0, computeMs: 0 };

  constructor(model: StreamDecoder, options: StreamOptions = {}) {
    super();
    const o = parseOptions(streamOptionsSchema, options, "stream()");
    this.#model = model;
    this.#opts = {
      language: normalizeLanguage(o.language),
      translate: o.translate ?? false,
      initialPrompt: o.initialPrompt ?? "",
      threads: o.threads,
      beamSize: o.beamSize ?? 1,
      partials: o.partials ?? true,
      stepMs: o.stepMs ?? 1000,
      trimAfterMs: o.trimAfterMs ?? 10_000,
      maxBufferMs: o.maxBufferMs ?? 25_000,
      maxUtteranceMs: o.maxUtteranceMs ?? 600_000,
      energyThreshold: o.energyThreshold ?? 0.005,
    };
    if (this.#opts.trimAfterMs > this.#opts.maxBufferMs) {
      throw new RangeError(`Expected trimAfterMs (${this.#opts.trimAfterMs}) to be at most maxBufferMs (${this.#opts.maxBufferMs})`);
    }
    this.#gate = new EnergyGate(this.#opts.energyThreshold);
    this.#utterance = this.#newUtterance();
  }

  /** Work done so far. */
  get stats(): Readonly<StreamStats> {
    return { ...this.#stats, audioMs: Math.floor(this.#received / PER_MS), computeMs: Math.round(this.#stats.computeMs) };
  }

  /** True once {@link close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves once no decode is running (a decode finishing may start the next: this waits for all). */
  async idle(): Promise<void> {
    while (this.#decoding || this.#unfinished > 0) {
      await this.#decoding;
      await this.#finishing;
    }
  }

  /** Appends 16 kHz mono float samples to the current utterance. */
  write(samples: Float32Array): void {
    this.#ensureOpen();
    if (!(samples instanceof Float32Array)) checkSamples(samples);
    if (samples.length === 0) return;
    for (let i = 0; i < samples.length; i++) {
      if (!Number.isFinite(samples[i]!)) throw new RangeError(`Expected finite sample values for samples but received ${samples[i]} at index ${i}`);
    }
    const u = this.#utterance;
    if ((u.buffer.end - u.start + samples.length) / PER_MS > this.#opts.maxUtteranceMs) {
      throw new RangeError(`The utterance is longer than maxUtteranceMs (${this.#opts.maxUtteranceMs} ms); call end() to finish it`);
    }
    this.#gate.push(samples);
    u.buffer.append(samples);
    this.#received += samples.length;
    this.#schedule();
  }

  /** Appends PCM16LE bytes (16 kHz mono); an odd byte count throws RangeError. */
  writePcm16(pcm: Uint8Array): void {
    this.#ensureOpen();
    this.write(pcm16ToFloat32(pcm, "pcm"));
  }

  /**
   * Ends the current utterance: waits for the running decode, decodes what is not confirmed yet,
   * emits `final` and returns it. Audio written after this call starts the next utterance.
   */
  end(): Promise<StreamFinal> {
    this.#ensureOpen();
    const utterance = this.#utterance;
    const running = this.#decoding;
    this.#utterance = this.#newUtterance();
    this.#unfinished++;
    const done = this.#finishing.then(async () => {
      await running;
      const final = await this.#finish(utterance);
      if (!this.#closed) this.emit("final", final);
      return final;
    });
    // The next utterance's decodes start once this final is out, so events stay in order.
    const next = () => {
      this.#unfinished--;
      this.#schedule();
    };
    this.#finishing = done.then(next, next);
    return done;
  }

  /** Stops all work at once (a running decode is aborted) and discards what was not finalised. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#abort.abort(new AbortError("The stream was closed"));
  }

  #ensureOpen(): void {
    if (this.#closed) throw new WhisperError("The stream is closed", "ERR_STREAM_CLOSED");
    if (this.#failure) throw this.#failure;
  }

  #newUtterance(): Utterance {
    return {
      start: this.#received,
      buffer: new SampleBuffer(this.#received),
      agreement: new LocalAgreement(),
      promptWords: 0,
      decodedTo: this.#received,
      silentDecodes: 0,
      language: this.#opts.language === "auto" ? undefined : this.#opts.language,
      lastPartial: "",
    };
  }

  /** Starts a partial decode when enough new audio with voice has arrived and none is running. */
  #schedule(): void {
    if (this.#closed || this.#decoding || this.#unfinished > 0 || !this.#opts.partials) return;
    const u = this.#utterance;
    const step = this.#opts.stepMs * PER_MS;
    if (u.buffer.end - u.decodedTo < step || u.buffer.length < MIN_DECODE_SAMPLES) return;
    const lastVoice = this.#gate.lastVoice;
    if (lastVoice <= u.buffer.start) {
      // Only silence in the buffer: drop it, nothing to decode.
      u.buffer.dropBefore(u.buffer.end - KEEP_BEFORE_VOICE);
      u.decodedTo = u.buffer.end;
      this.#stats.skipped++;
      return;
    }
    if (lastVoice <= u.decodedTo) {
      // No voice since the last decode: one more decode may confirm the pending words; then stop.
      if (u.agreement.pending.length === 0 || u.silentDecodes >= 1) {
        u.decodedTo = u.buffer.end;
        this.#stats.skipped++;
        this.#bound(u);
        return;
      }
      u.silentDecodes++;
    } else {
      u.silentDecodes = 0;
    }
    this.#decoding = this.#partialDecode(u).then(
      () => {
        this.#decoding = undefined;
        if (this.#utterance === u) this.#schedule();
      },
      (error: unknown) => {
        this.#decoding = undefined;
        this.#fail(error);
      },
    );
  }

  async #partialDecode(u: Utterance): Promise<void> {
    const to = u.buffer.end;
    const words = await this.#decode(u);
    u.decodedTo = to;
    if (this.#closed || words === undefined) return;
    u.agreement.insert(words);
    this.#trim(u);
    this.#bound(u);
    this.#emitPartial(u, to);
  }

  async #finish(u: Utterance): Promise<StreamFinal> {
    const startMs = Math.floor(u.start / PER_MS);
    const endMs = Math.floor(u.buffer.end / PER_MS);
    if (this.#gate.lastVoice > u.buffer.start && u.buffer.end > u.agreement.confirmedEnd * PER_MS) {
      const words = await this.#decode(u);
      if (words) u.agreement.confirm(u.agreement.fresh(words));
    }
    const words = u.agreement.confirmed;
    return { text: joinWords(words).trim(), sentences: sentencesOf(words), language: u.language, startMs, endMs };
  }

  /** Decodes the buffer; resolves to its words in absolute ms, or undefined when closed meanwhile. */
  async #decode(u: Utterance): Promise<Word[] | undefined> {
    const prompt = [this.#opts.initialPrompt, joinWords(u.agreement.confirmed.slice(0, u.promptWords)).trim().slice(-PROMPT_CHARS)]
      .filter((p) => p !== "")
      .join(" ");
    const offsetMs = u.buffer.start / PER_MS;
    this.#stats.decodes++;
    let result: TranscribeResult;
    try {
      result = await this.#model.transcribe(u.buffer.copy(MIN_DECODE_SAMPLES), {
        language: u.language ?? "auto",
        translate: this.#opts.translate,
        beamSize: this.#opts.beamSize,
        tokenTimestamps: true,
        signal: this.#abort.signal,
        ...(this.#opts.threads !== undefined ? { threads: this.#opts.threads } : {}),
        ...(prompt ? { initialPrompt: prompt } : {}),
      });
    } catch (error) {
      if (this.#closed) return undefined;
      throw error;
    }
    this.#stats.computeMs += result.timings.computeMs;
    if (this.#closed) return undefined;
    u.language ??= result.language;
    const audioEnd = u.buffer.end / PER_MS;
    return wordsOf(result.segments, offsetMs).filter((w) => w.start < audioEnd);
  }

  /** Cuts the buffer at the last confirmed sentence end once it is longer than trimAfterMs. */
  #trim(u: Utterance): void {
    if (u.buffer.length < this.#opts.trimAfterMs * PER_MS) return;
    const confirmed = u.agreement.confirmed;
    for (let i = confirmed.length - 1; i >= u.promptWords; i--) {
      if (endsSentence(confirmed[i]!)) {
        this.#cut(u, i + 1);
        return;
      }
    }
  }

  /** Keeps the buffer under maxBufferMs whatever the decodes say. */
  #bound(u: Utterance): void {
    const max = this.#opts.maxBufferMs * PER_MS;
    if (u.buffer.length <= max) return;
    if (u.agreement.confirmed.length > u.promptWords) this.#cut(u, u.agreement.confirmed.length);
    if (u.buffer.length <= max) return;
    // Nothing agreed for a whole buffer: take the hypothesis as it is rather than grow.
    u.agreement.confirm(u.agreement.pending);
    if (u.agreement.confirmed.length > u.promptWords) this.#cut(u, u.agreement.confirmed.length);
    if (u.buffer.length > max) u.buffer.dropBefore(u.buffer.end - this.#opts.trimAfterMs * PER_MS);
  }

  /** Drops the audio of the first `words` confirmed words; they become prompt. */
  #cut(u: Utterance, words: number): void {
    const last = u.agreement.confirmed[words - 1];
    if (!last) return;
    u.buffer.dropBefore(Math.round(last.end * PER_MS));
    u.promptWords = words;
  }

  #emitPartial(u: Utterance, to: number): void {
    const stable = joinWords(u.agreement.confirmed).trimStart();
    const pending = joinWords(u.agreement.pending);
    const unstable = stable === "" ? pending.trimStart() : pending;
    const text = stable + unstable;
    const key = `${stable}\u0000${unstable}`;
    if (key === u.lastPartial || text.trim() === "") return;
    u.lastPartial = key;
    this.emit("partial", { text, stable, unstable, startMs: Math.floor(u.start / PER_MS), endMs: Math.floor(to / PER_MS) });
  }

  #fail(error: unknown): void {
    const failure = error instanceof Error ? error : new WhisperError(String(error), "ERR_STREAM");
    this.#failure ??= failure;
    // An unhandled "error" event would crash the process: without a listener, write/end throw it instead.
    if (this.listenerCount("error") > 0) this.emit("error", failure);
  }
}
