// One /ws/realtime connection: heartbeats, limits, and one Streamer per utterance. Everything the
// client sends is checked here; results go out in the order they were produced.
import { WHISPER_SAMPLE_RATE } from "../../audio/pcm.js";
import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger } from "fastify";
import type { WebSocket } from "ws";
import type { StreamingBackend } from "../../backends/types.js";
import type { Settings } from "../../config.js";
import type { Streamer, StreamFinal, StreamPartial } from "../../stream/streamer.js";
import { CLOSE, parseClientMessage, ProtocolError, resultMode } from "./protocol.js";
import type { ClientMessage, RealtimeMode } from "./protocol.js";

const BYTES_PER_SECOND = 32_000;
/** Close reasons are limited to 123 bytes by the WebSocket protocol. */
const reason = (text: string) => (Buffer.byteLength(text) <= 123 ? text : `${Buffer.from(text).subarray(0, 120).toString("utf8").replace(/\uFFFD+$/, "")}...`);

export class RealtimeSession {
  readonly id = randomUUID();
  readonly #socket: WebSocket;
  readonly #backend: StreamingBackend;
  readonly #settings: Settings;
  readonly #log: FastifyBaseLogger;
  #mode: RealtimeMode = "2pass";
  #hotwords: string | string[] | null = null;
  #language: string | undefined;
  #speaking = false;
  #streamer: Streamer | undefined;
  #bytes = 0;
  #lastSeen = Date.now();
  #timers: NodeJS.Timeout[] = [];
  #out: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #streamers = new Set<Streamer>();

  constructor(socket: WebSocket, backend: StreamingBackend, settings: Settings, log: FastifyBaseLogger) {
    this.#socket = socket;
    this.#backend = backend;
    this.#settings = settings;
    this.#log = log.child({ connection_id: this.id });
  }

  start(): void {
    const s = this.#settings;
    this.#send({
      type: "connected",
      connection_id: this.id,
      config: {
        chunk_size: s.wsChunkSize,
        heartbeat_interval: s.wsHeartbeatInterval,
        compression: s.wsCompression,
        // Additions: what the audio must be and the limits that apply.
        sample_rate: WHISPER_SAMPLE_RATE,
        format: "pcm_s16le",
        step_ms: s.realtimeStepMs,
        max_frame_bytes: s.realtimeMaxFrameBytes,
        max_stream_seconds: s.realtimeMaxStreamSeconds,
      },
    });
    if (s.wsHeartbeatInterval > 0) {
      this.#timers.push(setInterval(() => this.#send({ type: "ping", timestamp: Date.now() / 1000 }), s.wsHeartbeatInterval * 1000));
    }
    if (s.wsHeartbeatTimeout > 0) {
      const limitMs = s.wsHeartbeatTimeout * 1000;
      this.#timers.push(
        setInterval(() => {
          if (Date.now() - this.#lastSeen > limitMs) this.close(CLOSE.heartbeatTimeout, `Heartbeat timeout: no message for ${s.wsHeartbeatTimeout} s (answer each ping with {"type":"pong"})`);
        }, Math.max(20, Math.min(limitMs / 4, 1000))),
      );
    }
    this.#socket.on("message", (data, isBinary) => this.#onMessage(data as Buffer | ArrayBuffer | Buffer[], isBinary));
    this.#socket.on("close", () => this.#dispose());
    this.#socket.on("error", (error) => this.#log.debug({ err: error }, "realtime socket error"));
  }

  /** Closes the connection with a code and reason; stops all work. */
  close(code: number, why: string): void {
    if (!this.#closed) this.#log.info({ code, reason: why }, "closing realtime stream");
    this.#dispose();
    if (this.#socket.readyState === this.#socket.OPEN || this.#socket.readyState === this.#socket.CONNECTING) this.#socket.close(code, reason(why));
  }

  #dispose(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    for (const streamer of this.#streamers) streamer.close();
    this.#streamers.clear();
    this.#streamer = undefined;
  }

  #onMessage(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.#closed) return;
    this.#lastSeen = Date.now();
    const bytes = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
    try {
      if (isBinary) this.#onAudio(bytes);
      else this.#onText(parseClientMessage(bytes.toString("utf8")));
    } catch (error) {
      if (error instanceof ProtocolError) this.close(error.code, error.message);
      else this.close(CLOSE.internalError, `Internal error: ${(error as Error).message}`);
    }
  }

  #onText(message: ClientMessage): void {
    if (message.kind === "pong" || message.kind === "ignored") return;
    if (message.kind === "ping") {
      this.#send({ type: "pong", timestamp: Date.now() / 1000 });
      return;
    }
    // Mode, hotwords and language apply from the next utterance on.
    if (message.mode !== undefined) this.#mode = message.mode;
    if (message.hotwords !== undefined) this.#hotwords = message.hotwords;
    if (message.language !== undefined) this.#language = message.language;
    if (message.isSpeaking === true) this.#speaking = true;
    if (message.isSpeaking === false) {
      const wasSpeaking = this.#speaking;
      this.#speaking = false;
      this.#endUtterance(wasSpeaking);
    }
  }

  #onAudio(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (bytes.length % 2 !== 0) {
      throw new ProtocolError(CLOSE.invalidPayload, `Audio frames must hold whole 16-bit samples (PCM16LE); received ${bytes.length} bytes`);
    }
    this.#bytes += bytes.length;
    const limit = this.#settings.realtimeMaxStreamSeconds;
    if (this.#bytes > limit * BYTES_PER_SECOND) {
      throw new ProtocolError(CLOSE.streamTooLong, `Stream length limit reached: ${limit} s of audio per connection (REALTIME_MAX_STREAM_SECONDS)`);
    }
    // Audio without a preceding {"is_speaking": true} starts an utterance too.
    this.#speaking = true;
    this.#streamer ??= this.#newStreamer();
    const streamer = this.#streamer;
    try {
      streamer.writePcm16(bytes);
    } catch (error) {
      if (error instanceof RangeError) throw new ProtocolError(CLOSE.streamTooLong, error.message);
      throw error;
    }
  }

  #newStreamer(): Streamer {
    const mode = this.#mode;
    const streamer = this.#backend.stream({
      hotwords: this.#hotwords,
      ...(this.#language !== undefined ? { language: this.#language } : {}),
      partials: mode !== "offline",
      stepMs: this.#settings.realtimeStepMs,
      maxUtteranceMs: Math.max(1000, Math.min(600_000, Math.ceil(this.#settings.realtimeMaxStreamSeconds * 1000))),
    });
    this.#streamers.add(streamer);
    streamer.on("partial", (p: StreamPartial) => this.#queue(() => this.#send({ mode: resultMode(mode, false), text: p.text, is_final: false, stable: p.stable, unstable: p.unstable })));
    streamer.on("error", (error: Error) => this.close(CLOSE.internalError, `Transcription failed: ${error.message}`));
    return streamer;
  }

  #endUtterance(wasSpeaking: boolean): void {
    const streamer = this.#streamer;
    const mode = this.#mode;
    if (!streamer) {
      // An utterance without audio still gets its (empty) final, so a client waiting for it never hangs.
      if (wasSpeaking) this.#queue(() => this.#send({ mode: resultMode(mode, true), text: "", is_final: true, sentence_info: [] }));
      return;
    }
    this.#streamer = undefined;
    const final = streamer.end();
    final.then(
      () => this.#streamers.delete(streamer),
      () => this.#streamers.delete(streamer),
    );
    this.#queue(async () => {
      let result: StreamFinal;
      try {
        result = await final;
      } catch (error) {
        if (!this.#closed) this.close(CLOSE.internalError, `Transcription failed: ${(error as Error).message}`);
        return;
      }
      this.#send({ mode: resultMode(mode, true), text: result.text, is_final: true, sentence_info: result.sentences, ...(result.language ? { language: result.language } : {}) });
    });
  }

  /** Results go out in order: a final before the next utterance's partials. */
  #queue(job: () => void | Promise<void>): void {
    this.#out = this.#out.then(job).catch((error: unknown) => this.#log.error({ err: error }, "realtime send failed"));
  }

  #send(message: object): void {
    if (this.#closed || this.#socket.readyState !== this.#socket.OPEN) return;
    this.#socket.send(JSON.stringify(message));
  }
}
