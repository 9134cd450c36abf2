// TingWu's routes, with its exact response shapes (its frontend and scripts call these). Hotword,
// config and service routes are in routes/tingwu/.
import { PassThrough } from "node:stream";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { WhisperBackendResult, WhisperCallOptions } from "../../backends/whisper.js";
import { renderTranscript } from "../../formats/render.js";
import { formatTimestamp } from "../../formats/subtitles.js";
import { asrOptionsField } from "../asr-options.js";
import type { HotwordStore } from "../../tingwu/hotword-store.js";
import { toHttpError } from "../errors.js";
import type { RuntimeConfig } from "../runtime-config.js";
import { boolField, fileField, filesField, limitedTextField, numberField, } from "../multipart.js";
import type { UploadedFile } from "../multipart.js";
import type { Ticket } from "../queue.js";
import { clientSignal } from "../service.js";
import type { TranscriptionService } from "../service.js";
import { detailError } from "../schemas.js";

const sentenceSchema = z.object({ text: z.string(), start: z.number().int(), end: z.number().int(), speaker: z.null(), speaker_id: z.null() });

const transcribeResponse = z.object({
  code: z.literal(0),
  text: z.string(),
  text_accu: z.null(),
  sentences: z.array(sentenceSchema),
  speaker_turns: z.null(),
  transcript: z.null(),
  raw_text: z.string(),
});

const batchResponse = z.object({
  code: z.union([z.literal(0), z.literal(1)]),
  total: z.number().int(),
  success_count: z.number().int(),
  failed_count: z.number().int(),
  results: z.array(
    z.object({
      index: z.number().int(),
      filename: z.string(),
      success: z.boolean(),
      result: transcribeResponse.optional(),
      error: z.string().optional(),
    }),
  ),
});

const asrResponse = z.object({
  text: z.string(),
  segments: z.array(z.object({ sentence_index: z.number().int(), text: z.string(), start: z.string(), end: z.string(), speaker: z.null() })),
  language: z.string(),
});

const backendResponse = z.object({
  backend: z.string(),
  info: z.looseObject({ name: z.string(), type: z.string(), device: z.string(), model: z.string(), language: z.string() }),
  capabilities: z.object({
    supports_speaker: z.boolean(),
    supports_streaming: z.boolean(),
    supports_hotwords: z.boolean(),
    supports_speaker_fallback: z.boolean(),
    supports_speaker_external: z.boolean(),
    speaker_strategy: z.string(),
  }),
  speaker_unsupported_behavior: z.string(),
});

export const commonFields = {
  with_speaker: boolField(false, "Ask for speaker labels; this backend has none, so it is ignored"),
  apply_hotword: boolField(true, "Use the hotwords as the decoder prompt"),
  hotwords: limitedTextField("Hotwords, one per line (the first 50 distinct terms are used)", "hotwords", "hotwords"),
  asr_options: asrOptionsField,
};

/** TingWu's `/api/v1/transcribe` response. */
export const tingwuTranscribeResponse = transcribeResponse;
export type TingWuTranscription = z.infer<typeof transcribeResponse>;

/** A transcription in TingWu's shape (also the result of its async routes). */
export function toTingWu(result: Pick<WhisperBackendResult, "text" | "sentence_info">): TingWuTranscription {
  return {
    code: 0,
    text: result.text,
    text_accu: null,
    sentences: result.sentence_info.map((s) => ({ text: s.text, start: s.start, end: s.end, speaker: null, speaker_id: null })),
    speaker_turns: null,
    transcript: null,
    raw_text: result.text,
  };
}

/** An SSE event. */
const sse = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;

/** `apply_hotword` (TingWu's default true) puts the request's hotwords, else the stored ones, into the prompt. */
export function hotwordOptions(store: HotwordStore, runtime: RuntimeConfig, apply: boolean, requested: string | undefined): WhisperCallOptions {
  const hotwords = apply ? store.promptHotwords(requested, runtime.injection) : undefined;
  return hotwords === undefined ? {} : { hotwords };
}

/** The decoder options of TingWu's form fields (sync and async routes): asr_options.backend plus the hotwords. */
export function tingwuCallOptions(
  store: HotwordStore,
  runtime: RuntimeConfig,
  fields: { apply_hotword: boolean; hotwords?: string | undefined; asr_options: { backend: WhisperCallOptions } },
): WhisperCallOptions {
  return { ...fields.asr_options.backend, ...hotwordOptions(store, runtime, fields.apply_hotword, fields.hotwords) };
}

export interface TingwuRoutesOptions {
  service: TranscriptionService;
  version: string;
  /** The stored hotword lists, used when a request asks for hotwords but brings none. */
  hotwords: HotwordStore;
  runtime: RuntimeConfig;
}

export const tingwuRoutes: FastifyPluginAsyncZod<TingwuRoutesOptions> = async (app, { service, version, hotwords: store, runtime }) => {
  // Every POST here transcribes an upload: it is admitted before its body is read (lib/server/limits.ts).
  const config = { dialect: "tingwu" as const, transcribes: true };

  const callOptions = (fields: Parameters<typeof tingwuCallOptions>[2]) => tingwuCallOptions(store, runtime, fields);
  const errors = { 400: detailError, 413: detailError, 503: detailError, 500: detailError };

  app.get(
    "/health",
    { config, schema: { tags: ["tingwu"], summary: "Liveness (stays up while the model loads)", response: { 200: z.object({ status: z.literal("healthy"), version: z.string() }) } } },
    async () => ({ status: "healthy" as const, version }),
  );

  app.get(
    "/api/v1/backend",
    { config, schema: { tags: ["tingwu"], summary: "The ASR backend and its capabilities", response: { 200: backendResponse } } },
    async () => {
      const backend = service.manager.backendInstance;
      return {
        backend: service.settings.asrBackend,
        info: backend.getInfo(),
        capabilities: {
          supports_speaker: backend.supports_speaker,
          supports_streaming: backend.supports_streaming,
          supports_hotwords: backend.supports_hotwords,
          supports_speaker_fallback: false,
          supports_speaker_external: false,
          speaker_strategy: "ignore",
        },
        speaker_unsupported_behavior: "ignore",
      };
    },
  );

  app.post(
    "/api/v1/transcribe",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Transcribe one file into sentences",
        consumes: ["multipart/form-data"],
        body: z.object({ file: fileField("The audio or video file"), ...commonFields }),
        response: { 200: transcribeResponse, ...errors },
      },
    },
    async (request, reply) => {
      const signal = clientSignal(request, reply);
      const ticket = service.admit(request);
      try {
        const audio = await service.decode(request.body.file, { signal });
        return toTingWu(await service.transcribe(ticket, audio, callOptions(request.body), signal));
      } finally {
        ticket.release();
      }
    },
  );

  app.post(
    "/api/v1/transcribe/batch",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Transcribe several files; one bad file never fails the others",
        consumes: ["multipart/form-data"],
        body: z.object({
          files: filesField("The files (repeat the field)"),
          max_concurrent: numberField(1, 64, "Files transcribed at once (bounded by the free queue places). Default 3", true),
          ...commonFields,
        }),
        response: { 200: batchResponse, ...errors },
      },
    },
    async (request, reply) => {
      const signal = clientSignal(request, reply);
      const { files } = request.body;
      const options = callOptions(request.body);
      const tickets = service.admitMany(Math.min(files.length, request.body.max_concurrent ?? 3), request);
      const results: z.infer<typeof batchResponse>["results"] = new Array(files.length);
      let next = 0;
      const worker = async (ticket: Ticket) => {
        try {
          for (let index = next++; index < files.length; index = next++) {
            results[index] = await transcribeOne(ticket, files[index]!, index);
          }
        } finally {
          ticket.release();
        }
      };
      const transcribeOne = async (ticket: Ticket, file: UploadedFile, index: number) => {
        try {
          const audio = await service.decode(file, { signal });
          return { index, filename: file.filename, success: true, result: toTingWu(await service.transcribe(ticket, audio, options, signal)) };
        } catch (error) {
          if (signal.aborted) throw error;
          const http = toHttpError(error, service.maxUploadBytes);
          if (http.statusCode >= 500) request.log.error({ err: error, index, filename: file.filename }, "batch file failed");
          return { index, filename: file.filename, success: false, error: http.message };
        }
      };
      await Promise.all(tickets.map(worker));
      const failed = results.filter((r) => !r.success).length;
      return { code: failed === 0 ? (0 as const) : (1 as const), total: files.length, success_count: files.length - failed, failed_count: failed, results };
    },
  );

  app.post(
    "/api/v1/asr",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Transcribe one file into timed segments (HH:MM:SS.mmm)",
        consumes: ["multipart/form-data"],
        body: z.object({
          file: fileField("The audio or video file"),
          file_type: z.enum(["audio", "video"]).default("audio").meta({ description: "audio or video (both are decoded by ffmpeg when not WAV). Default audio" }),
          with_speaker: commonFields.with_speaker,
          apply_hotword: commonFields.apply_hotword,
        }),
        response: { 200: asrResponse, ...errors },
      },
    },
    async (request, reply) => {
      const signal = clientSignal(request, reply);
      const ticket = service.admit(request);
      try {
        const audio = await service.decode(request.body.file, { signal });
        const result = await service.transcribe(ticket, audio, hotwordOptions(store, runtime, request.body.apply_hotword, undefined), signal);
        return {
          text: result.text,
          segments: result.sentence_info.map((s, i) => ({
            sentence_index: i + 1,
            text: s.text,
            start: formatTimestamp(s.start, "hms"),
            end: formatTimestamp(s.end, "hms"),
            speaker: null,
          })),
          language: result.language,
        };
      } finally {
        ticket.release();
      }
    },
  );
  app.post(
    "/api/v1/transcribe/stream",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Like /api/v1/transcribe, as server-sent events: progress, each segment as whisper finalises it, then the subtitle files and the result (the web page uses this)",
        description:
          "Events: `progress` `{progress}` (percent), `segment` `{text, start, end}` (ms), then `files` `{srt, vtt, txt}` and `result` (the /api/v1/transcribe body) or `error` `{detail}`. Errors found before the stream starts (bad form, busy, model loading) are ordinary JSON responses.",
        consumes: ["multipart/form-data"],
        body: z.object({ file: fileField("The audio or video file"), ...commonFields }),
        response: { 200: { description: "text/event-stream", content: { "text/event-stream": { schema: z.string() } } }, ...errors },
      },
    },
    async (request, reply) => {
      const signal = clientSignal(request, reply);
      const ticket = service.admit(request);
      let streaming = false;
      try {
        const audio = await service.decode(request.body.file, { signal });
        const stream = new PassThrough();
        const options: WhisperCallOptions = {
          ...callOptions(request.body),
          onProgress: (progress) => stream.write(sse("progress", { progress })),
          onSegment: (segment) => stream.write(sse("segment", { text: segment.text.trim(), start: segment.start, end: segment.end })),
        };
        streaming = true;
        service
          .transcribe(ticket, audio, options, signal)
          .then(
            (result) => {
              const files = { srt: renderTranscript(result, "srt"), vtt: renderTranscript(result, "vtt"), txt: renderTranscript(result, "txt") };
              stream.write(sse("files", files));
              stream.end(sse("result", toTingWu(result)));
            },
            (error: unknown) => {
              if (signal.aborted) return void stream.destroy();
              const http = toHttpError(error, service.maxUploadBytes);
              if (http.statusCode >= 500) request.log.error({ err: error }, "streamed transcription failed");
              stream.end(sse("error", { detail: http.message }));
            },
          )
          .finally(() => ticket.release());
        return reply.type("text/event-stream; charset=utf-8").header("cache-control", "no-cache").header("x-accel-buffering", "no").send(stream as never);
      } finally {
        if (!streaming) ticket.release();
      }
    },
  );
};
