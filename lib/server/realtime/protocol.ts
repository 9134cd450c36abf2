// TingWu's /ws/realtime protocol (src/api/routes/websocket.py), field by field, plus additions that
// TingWu clients ignore: `stable`/`unstable` on partials, `sentence_info` and `language` on finals.
import { normalizeLanguage } from "../../languages.js";

export type RealtimeMode = "2pass" | "online" | "offline";
export const REALTIME_MODES: readonly RealtimeMode[] = ["2pass", "online", "offline"];

/** Close codes, each sent with a reason that says what to do. */
export const CLOSE = {
  normal: 1000,
  /** Server shutting down. */
  goingAway: 1001,
  /** A text message that is not a JSON object. */
  unsupportedData: 1003,
  /** Audio with an odd byte count, or a config field of the wrong type. */
  invalidPayload: 1007,
  /** A message larger than REALTIME_MAX_FRAME_BYTES (sent by ws itself). */
  messageTooBig: 1009,
  /** The model failed while transcribing. */
  internalError: 1011,
  /** Too many streams, or the model is not loaded yet: retry later. */
  tryAgainLater: 1013,
  /** Missing or wrong API key. */
  unauthorized: 4401,
  /** Origin not in CORS_ORIGINS. */
  forbiddenOrigin: 4403,
  /** No message (pong or other) within WS_HEARTBEAT_TIMEOUT. */
  heartbeatTimeout: 4408,
  /** More audio than REALTIME_MAX_STREAM_SECONDS on one connection. */
  streamTooLong: 4413,
  /** The configured backend has no real-time streaming (`supports_streaming` false). */
  streamingUnsupported: 4501,
} as const;

/** A client message after validation. */
export type ClientMessage =
  | { kind: "pong" }
  | { kind: "ping" }
  | { kind: "ignored" }
  | { kind: "config"; isSpeaking?: boolean; mode?: RealtimeMode; hotwords?: string | string[] | null; chunkInterval?: number; language?: string };

/** A bad client message: the close code and reason to send. */
export class ProtocolError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** Parses a text message: TingWu's config (`is_speaking`, `mode`, `hotwords`, `chunk_interval`), `pong`, or `ping`. */
export function parseClientMessage(text: string): ClientMessage {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new ProtocolError(CLOSE.unsupportedData, "Expected a JSON object (config or pong) as text, or PCM16LE audio as binary");
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ProtocolError(CLOSE.unsupportedData, "Expected a JSON object (config or pong) as text, or PCM16LE audio as binary");
  }
  const m = data as Record<string, unknown>;
  if (m.type === "pong") return { kind: "pong" };
  if (m.type === "ping") return { kind: "ping" };
  if (m.type === "cancel_llm") return { kind: "ignored" }; // TingWu's LLM polishing is not part of this service
  const bad = (field: string, expected: string) => new ProtocolError(CLOSE.invalidPayload, `Expected ${expected} for ${field}`);
  const config: Extract<ClientMessage, { kind: "config" }> = { kind: "config" };
  if ("is_speaking" in m) {
    if (typeof m.is_speaking !== "boolean") throw bad("is_speaking", "true or false");
    config.isSpeaking = m.is_speaking;
  }
  if ("mode" in m) {
    if (!REALTIME_MODES.includes(m.mode as RealtimeMode)) throw bad("mode", '"2pass", "online" or "offline"');
    config.mode = m.mode as RealtimeMode;
  }
  if ("hotwords" in m) {
    const h = m.hotwords;
    if (!(h === null || typeof h === "string" || (Array.isArray(h) && h.every((t) => typeof t === "string")))) throw bad("hotwords", "a string, a list of strings or null");
    config.hotwords = h as string | string[] | null;
  }
  if ("chunk_interval" in m) {
    if (!Number.isInteger(m.chunk_interval) || (m.chunk_interval as number) < 1) throw bad("chunk_interval", "a positive integer");
    config.chunkInterval = m.chunk_interval as number;
  }
  if ("language" in m) {
    if (typeof m.language !== "string") throw bad("language", 'a language code or "auto"');
    try {
      config.language = normalizeLanguage(m.language);
    } catch (error) {
      throw new ProtocolError(CLOSE.invalidPayload, (error as Error).message);
    }
  }
  return config;
}

/** `mode` of a partial / final for the client's mode, as TingWu names them. */
export function resultMode(mode: RealtimeMode, final: boolean): string {
  if (mode === "2pass") return final ? "2pass-offline" : "2pass-online";
  return mode;
}
