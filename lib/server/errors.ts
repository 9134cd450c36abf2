// HTTP errors and the one error handler that renders them in each dialect's shape:
// TingWu and whisper-asr-webservice (both FastAPI) answer `{"detail": "..."}`, the OpenAI
// dialect answers `{"error": {"message", "type", "param", "code"}}`. 5xx details stay in the log.
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { hasZodFastifySchemaValidationErrors } from "fastify-type-provider-zod";
import { AbortError } from "../errors.js";
import { AudioDecodeError } from "../audio/wav.js";
import { BODY_LIMITS } from "../limits.js";

/** Which API family a route belongs to; decides the error body. */
export type Dialect = "tingwu" | "asr" | "openai";

declare module "fastify" {
  interface FastifyContextConfig {
    /** A route that transcribes an upload synchronously: it takes its queue place before its body is read (lib/server/limits.ts). */
    transcribes?: boolean;
    /** The route's API family (error shape). Default: guessed from the URL. */
    dialect?: Dialect;
  }
}

export interface HttpErrorOptions {
  /** OpenAI `code` (e.g. `server_overloaded`). Default null. */
  code?: string;
  /** OpenAI `param`: the request field at fault. Default null. */
  param?: string;
  /** OpenAI `type`. Default from the status: invalid_request_error (4xx) or server_error (5xx). */
  type?: string;
  /** Extra response headers, e.g. Retry-After. */
  headers?: Record<string, string>;
  cause?: unknown;
}

/** An error whose message is meant for the client, whatever the status. */
export class HttpError extends Error {
  readonly statusCode: number;
  readonly code: string | undefined;
  readonly param: string | undefined;
  readonly type: string | undefined;
  readonly headers: Record<string, string>;

  constructor(statusCode: number, message: string, options: HttpErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HttpError";
    this.statusCode = statusCode;
    this.code = options.code;
    this.param = options.param;
    this.type = options.type;
    this.headers = options.headers ?? {};
  }
}

/** The client went away; nothing can be sent. */
export class ClientGoneError extends AbortError {
  constructor(cause?: unknown) {
    super("The client closed the connection", { cause });
  }
}

/** The dialect of a URL, for requests that matched no route. */
export function dialectOfUrl(url: string): Dialect {
  if (url.startsWith("/v1/")) return "openai";
  if (url.startsWith("/asr") || url.startsWith("/detect-language")) return "asr";
  return "tingwu";
}

export function dialectOf(request: FastifyRequest): Dialect {
  return request.routeOptions?.config?.dialect ?? dialectOfUrl(request.url);
}

function openAiType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 404) return "invalid_request_error";
  if (status === 429) return "rate_limit_error";
  return status >= 500 ? "server_error" : "invalid_request_error";
}

/** The error body of a dialect. */
export function errorBody(dialect: Dialect, error: HttpError): unknown {
  if (dialect === "openai") {
    return { error: { message: error.message, type: error.type ?? openAiType(error.statusCode), param: error.param ?? null, code: error.code ?? null } };
  }
  return { detail: error.message };
}

const megabytes = (bytes: number) => `${Number((bytes / 1024 / 1024).toFixed(2))} MB`;

/** 413 for an upload over WHISPER_MAX_UPLOAD_MB. */
export function uploadTooLarge(maxUploadBytes: number): HttpError {
  return new HttpError(413, `The upload is larger than the limit of ${megabytes(maxUploadBytes)} (WHISPER_MAX_UPLOAD_MB)`, { code: "file_too_large", param: "file" });
}

/** 413 for a request body that is not a multipart upload and is over its limit (1 MiB). */
export function bodyTooLarge(): HttpError {
  return new HttpError(413, `The request body is larger than the limit of ${megabytes(BODY_LIMITS.nonMultipart)} for requests that are not multipart/form-data (send audio as a multipart upload)`, {
    code: "body_too_large",
  });
}

/** Turns anything thrown while handling a request into an HttpError. */
export function toHttpError(error: unknown, maxUploadBytes: number): HttpError {
  if (error instanceof HttpError) return error;
  if (hasZodFastifySchemaValidationErrors(error)) {
    const context = (error as FastifyError).validationContext;
    const first = error.validation[0]!;
    const tooLong = (first.params as { params?: { tooLong?: { field: string; limit: number } } } | undefined)?.params?.tooLong;
    if (tooLong) return new HttpError(413, first.message ?? `${tooLong.field} is too long`, { param: tooLong.field, code: "field_too_long" });
    const field = first.instancePath.replace(/^\//, "").replaceAll("/", ".");
    const where = field || (context === "body" ? "request body" : String(context ?? "request"));
    const text = first.message ?? "invalid value";
    // Messages that already name their field ("asr_options must be ...") stand alone.
    const message = text.startsWith(where) ? text : `Invalid ${context === "querystring" ? "query parameter" : "field"} ${where}: ${text}`;
    return new HttpError(400, message, { ...(field ? { param: field } : {}), code: "invalid_value" });
  }
  if (error instanceof AudioDecodeError) return decodeHttpError(error);
  const code = (error as { code?: unknown })?.code;
  switch (code) {
    case "FST_REQ_FILE_TOO_LARGE":
      return uploadTooLarge(maxUploadBytes);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      // Only fastify's own (JSON, text) parsers raise this; multipart has its own limits.
      return bodyTooLarge();
    case "FST_PARTS_LIMIT":
    case "FST_FILES_LIMIT":
    case "FST_FIELDS_LIMIT":
      return new HttpError(413, `The form has too many parts: ${(error as Error).message}`, { code: "too_many_parts" });
    case "FST_INVALID_MULTIPART_CONTENT_TYPE":
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HttpError(415, "Expected a multipart/form-data upload", { code: "unsupported_media_type" });
    case "FST_PROTO_VIOLATION":
    case "FST_INVALID_JSON_FIELD_ERROR":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new HttpError(400, (error as Error).message, { code: "invalid_request" });
  }
  const status = (error as { statusCode?: unknown })?.statusCode;
  // Busboy's parse errors ("Malformed part header", "Unexpected end of form") carry no status.
  if (/multipart|part header|end of form|boundary/i.test((error as Error)?.message ?? "") && status === undefined) {
    return new HttpError(400, `Malformed multipart body: ${(error as Error).message}`, { code: "invalid_request" });
  }
  if (typeof status === "number" && status >= 400 && status < 500) {
    return new HttpError(status, (error as Error).message, { code: "invalid_request" });
  }
  return new HttpError(500, "Internal Server Error", { cause: error });
}

function decodeHttpError(error: AudioDecodeError): HttpError {
  const options = { param: "file", cause: error };
  switch (error.code) {
    case "TOO_LONG":
      return new HttpError(413, `The audio is too long (WHISPER_MAX_AUDIO_S): ${error.message}`, { ...options, code: "audio_too_long" });
    case "FFMPEG_NOT_FOUND":
      // The upload may be fine; this server can only read WAV (and raw PCM) without ffmpeg.
      return new HttpError(415, "This server can only decode WAV files: ffmpeg is not installed (set FFMPEG_PATH). Send 16-bit PCM WAV instead.", { ...options, code: "unsupported_format" });
    case "FFMPEG_FAILED":
      return new HttpError(500, "Internal Server Error", options);
    default:
      return new HttpError(400, `Could not decode the audio file: ${error.message}`, { ...options, code: "invalid_audio" });
  }
}

/** Fastify's error handler: logs, then answers in the route's dialect. */
export function createErrorHandler(maxUploadBytes: number) {
  return function handleError(this: unknown, error: unknown, request: FastifyRequest, reply: FastifyReply) {
    if (error instanceof ClientGoneError || request.raw.socket?.destroyed) {
      // Nobody is listening (whatever broke: an aborted upload surfaces as a parse error); 499
      // (nginx's "client closed request") only shows up in logs and metrics. No stack: not our fault.
      request.log.info({ reason: (error as Error)?.message ?? String(error) }, "request aborted: the client went away");
      if (!reply.sent) void reply.code(499).send();
      return;
    }
    const http = toHttpError(error, maxUploadBytes);
    if (http.statusCode >= 500) request.log.error({ err: http.cause ?? error }, "request failed");
    else request.log.info({ status: http.statusCode, reason: http.message }, "request rejected");
    if (reply.sent || reply.raw.headersSent) return;
    void reply.code(http.statusCode).headers(http.headers).type("application/json; charset=utf-8").send(errorBody(dialectOf(request), http));
  };
}
