// What every transcription route does, whatever its dialect: check the model is ready, take a
// place in the queue, decode the upload, run the model under the request's abort signal and a
// timeout that grows with the audio, and count it all in the metrics.
import type { FastifyReply, FastifyRequest } from "fastify";
import { decodeAudio } from "../audio/decode.js";
import type { DecodedAudio } from "../audio/decode.js";
import type { ASRBackend, DetailedBackendResult, SamplesTranscribeOptions } from "../backends/types.js";
import type { ModelManager } from "../backends/model-manager.js";
import type { Settings } from "../config.js";
import { AbortError } from "../errors.js";
import { publicModelName } from "../models/names.js";
import { MIN_SAMPLES } from "../options.js";
import type { LanguageDetection } from "../whisper.js";
import { ClientGoneError, HttpError } from "./errors.js";
import { claimTicket } from "./limits.js";
import type { ServiceMetrics } from "./metrics.js";
import type { UploadedFile } from "./multipart.js";
import type { InferenceQueue, Ticket } from "./queue.js";

/** How long one model run may take: `baseMs + perAudioSecondMs × audio seconds`. */
export interface InferenceTimeout {
  /** Fixed allowance (model warm-up, short files). Default `60000`. */
  baseMs: number;
  /** Allowance per second of audio; 5000 allows a real-time factor of 5. Default `5000`. */
  perAudioSecondMs: number;
}

export const DEFAULT_INFERENCE_TIMEOUT: InferenceTimeout = { baseMs: 60_000, perAudioSecondMs: 5_000 };

/** Retry-After while the model loads. */
const LOADING_RETRY_AFTER_S = 5;

export class TranscriptionService {
  readonly settings: Settings;
  readonly manager: ModelManager;
  readonly queue: InferenceQueue;
  readonly metrics: ServiceMetrics;
  readonly timeout: InferenceTimeout;
  /** False on an API-only front (`serve --no-inference`): no model here, transcription routes answer 503. */
  readonly inference: boolean;

  constructor(options: { settings: Settings; manager: ModelManager; queue: InferenceQueue; metrics: ServiceMetrics; timeout?: InferenceTimeout; inference?: boolean }) {
    this.settings = options.settings;
    this.manager = options.manager;
    this.queue = options.queue;
    this.metrics = options.metrics;
    this.timeout = options.timeout ?? DEFAULT_INFERENCE_TIMEOUT;
    this.inference = options.inference ?? true;
  }

  /** Largest accepted upload in bytes. */
  get maxUploadBytes(): number {
    return Math.floor(this.settings.whisperMaxUploadMb * 1024 * 1024);
  }

  /** The loaded backend, or 503 while it loads or after its load failed. */
  backend(): ASRBackend {
    if (!this.inference) {
      throw new HttpError(503, "This server is an API-only front (serve --no-inference): submit jobs to /api/v1/jobs, /api/v1/trans/url or /api/v1/trans/video; workers run them", { code: "no_inference" });
    }
    const state = this.manager.state;
    if (state === "failed") {
      const next = this.manager.retry.nextAttemptAt;
      const retryAfter = next ? Math.max(1, Math.ceil((next.getTime() - Date.now()) / 1000)) : undefined;
      throw new HttpError(503, `The model failed to load: ${this.manager.publicError}${next ? `; next attempt at ${next.toISOString()}` : ""}`, {
        code: "model_load_failed",
        ...(retryAfter !== undefined ? { headers: { "Retry-After": String(retryAfter) } } : {}),
      });
    }
    if (state !== "ready") {
      throw new HttpError(503, `The model is loading (${publicModelName(this.settings.whisperModel)}); retry shortly`, {
        code: "model_loading",
        headers: { "Retry-After": String(LOADING_RETRY_AFTER_S) },
      });
    }
    return this.manager.backendInstance;
  }

  /**
   * A place in the queue, or 503 with Retry-After when it is full. Checks the model first. With
   * `request`: the place it was admitted with before its body was read (lib/server/limits.ts).
   */
  admit(request?: FastifyRequest): Ticket {
    const early = request ? claimTicket(request) : undefined;
    if (early) return early;
    this.backend();
    const ticket = this.queue.tryAdmit();
    if (!ticket) {
      this.metrics.rejected.inc();
      throw new HttpError(503, `The server is busy: ${this.queue.running} transcriptions running and ${this.queue.waiting} waiting (WHISPER_QUEUE_SIZE=${this.queue.queueSize}); retry later`, {
        code: "server_overloaded",
        headers: { "Retry-After": String(this.queue.retryAfterSeconds()) },
      });
    }
    return ticket;
  }

  /** `count` places at once, as many as are free (at least one, else 503). */
  admitMany(count: number, request?: FastifyRequest): Ticket[] {
    const tickets = [this.admit(request)];
    while (tickets.length < count) {
      const ticket = this.queue.tryAdmit();
      if (!ticket) break;
      tickets.push(ticket);
    }
    return tickets;
  }

  /** An upload to 16 kHz mono samples; `raw` means headerless s16le 16 kHz mono. */
  async decode(file: UploadedFile, options: { raw?: boolean; signal?: AbortSignal; param?: string } = {}): Promise<DecodedAudio> {
    const param = options.param ?? "file";
    if (file.data.length === 0) throw new HttpError(400, `The uploaded ${param} is empty`, { param, code: "invalid_audio" });
    let audio: DecodedAudio;
    try {
      audio = await decodeAudio(file.data, {
        ...(options.signal ? { signal: options.signal } : {}),
        ...(this.settings.ffmpegPath !== undefined ? { ffmpegPath: this.settings.ffmpegPath } : {}),
        ...(options.raw ? { format: "s16le" as const } : {}),
        maxDurationMs: this.settings.whisperMaxAudioS * 1000,
      });
    } catch (error) {
      // Raw PCM with an odd byte count is the client's mistake, not ours.
      if (error instanceof RangeError) throw new HttpError(400, `Could not decode the audio file: ${error.message}`, { param, code: "invalid_audio", cause: error });
      throw error;
    }
    if (audio.samples.length < MIN_SAMPLES) {
      throw new HttpError(400, `The audio lasts ${audio.durationMs} ms; at least 100 ms is needed`, { param, code: "audio_too_short" });
    }
    return audio;
  }

  /** Transcribes under the queue, the request's signal and the duration-scaled timeout. */
  async transcribe(ticket: Ticket, audio: DecodedAudio, options: SamplesTranscribeOptions, signal: AbortSignal): Promise<DetailedBackendResult> {
    const backend = this.backend();
    const result = await this.#runModel(ticket, audio, signal, "transcribe", (runSignal) => backend.transcribeSamples(audio.samples, { ...options, signal: runSignal }));
    return result.value;
  }

  /** Detects the language of the first 30 s, in the queue like a transcription. */
  async detectLanguage(ticket: Ticket, audio: DecodedAudio, signal: AbortSignal): Promise<LanguageDetection> {
    const backend = this.backend();
    const result = await this.#runModel(ticket, audio, signal, "detect_language", (runSignal) => backend.detectLanguage(audio.samples, { signal: runSignal }));
    return result.value;
  }

  /** Milliseconds a run on this audio may take. */
  timeoutMs(durationMs: number): number {
    return Math.ceil(this.timeout.baseMs + (this.timeout.perAudioSecondMs * durationMs) / 1000);
  }

  async #runModel<T>(ticket: Ticket, audio: DecodedAudio, signal: AbortSignal, kind: string, run: (signal: AbortSignal) => Promise<T>): Promise<{ value: T }> {
    return ticket.run(async () => {
      const limitMs = this.timeoutMs(audio.durationMs);
      const timer = new AbortController();
      const handle = setTimeout(() => timer.abort(new Error("timeout")), limitMs);
      const started = performance.now();
      try {
        const value = await run(AbortSignal.any([signal, timer.signal]));
        const seconds = (performance.now() - started) / 1000;
        this.metrics.inferences.inc({ kind, outcome: "ok" });
        if (kind === "transcribe") {
          const audioSeconds = audio.durationMs / 1000;
          this.metrics.inferenceDuration.observe(seconds);
          this.metrics.audioSeconds.inc({}, audioSeconds);
          if (audioSeconds > 0) this.metrics.realTimeFactor.observe(seconds / audioSeconds);
        }
        return { value };
      } catch (error) {
        if (error instanceof AbortError && timer.signal.aborted && !signal.aborted) {
          this.metrics.aborted.inc({ reason: "timeout" });
          this.metrics.inferences.inc({ kind, outcome: "aborted" });
          const limit = Number((limitMs / 1000).toFixed(3));
          throw new HttpError(504, `The transcription took longer than its ${limit} s limit for ${audio.durationMs / 1000} s of audio`, { code: "timeout", cause: error });
        }
        if (error instanceof AbortError && signal.aborted) {
          this.metrics.aborted.inc({ reason: "client_disconnect" });
          this.metrics.inferences.inc({ kind, outcome: "aborted" });
          throw new ClientGoneError(error);
        }
        this.metrics.inferences.inc({ kind, outcome: "error" });
        throw error;
      } finally {
        clearTimeout(handle);
      }
    }, signal).catch((error: unknown) => {
      // Aborted while still waiting for a slot.
      if (error instanceof AbortError && !(error instanceof ClientGoneError) && signal.aborted) {
        this.metrics.aborted.inc({ reason: "client_disconnect" });
        throw new ClientGoneError(error);
      }
      throw error;
    });
  }
}

/** An AbortSignal that fires when the client disconnects before its response is complete. */
export function clientSignal(request: FastifyRequest, reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  const onClose = () => {
    if (!reply.raw.writableFinished) controller.abort(new ClientGoneError());
  };
  reply.raw.once("close", onClose);
  if (request.raw.socket?.destroyed) onClose();
  return controller.signal;
}
