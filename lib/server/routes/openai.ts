// The OpenAI audio API (`/v1/audio/transcriptions`, `/v1/audio/translations`, `/v1/models`), close
// enough that the official client works unmodified. `model` is accepted and always means the
// loaded model.
import { PassThrough } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { DecodedAudio } from "../../audio/decode.js";
import type { WhisperBackendResult, WhisperCallOptions } from "../../backends/whisper.js";
import { publicModelName } from "../../models/names.js";
import { languageName, LANGUAGE_WHEN_OMITTED, requestLanguage } from "../../languages.js";
import { renderTranscript } from "../../formats/render.js";
import { errorBody, HttpError, toHttpError } from "../errors.js";
import { boolField, chineseScriptField, fileField, languageTextField, limitedTextField, numberField, textField } from "../multipart.js";
import type { Ticket } from "../queue.js";
import { openaiError } from "../schemas.js";
import { clientSignal } from "../service.js";
import type { TranscriptionService } from "../service.js";
import { toWhisperSegments, wordsOfSegment } from "../../formats/whisper-json.js";

export const RESPONSE_FORMATS = ["json", "text", "srt", "verbose_json", "vtt"] as const;
type ResponseFormat = (typeof RESPONSE_FORMATS)[number];

/** The id every OpenAI client knows; any requested model maps to the loaded one. */
export const OPENAI_MODEL_ID = "whisper-1";

const usageSchema = z.object({ type: z.literal("duration"), seconds: z.number().int() });
const segmentSchema = z.object({
  id: z.number().int(),
  seek: z.number().int(),
  start: z.number(),
  end: z.number(),
  text: z.string(),
  tokens: z.array(z.number().int()),
  temperature: z.number(),
  avg_logprob: z.number(),
  compression_ratio: z.number(),
  no_speech_prob: z.number(),
});
const wordSchema = z.object({ word: z.string(), start: z.number(), end: z.number() });
const jsonResponse = z.object({ text: z.string(), usage: usageSchema });
const verboseResponse = z.object({
  task: z.enum(["transcribe", "translate"]),
  language: z.string(),
  duration: z.number(),
  text: z.string(),
  segments: z.array(segmentSchema).optional(),
  words: z.array(wordSchema).optional(),
  usage: usageSchema,
});
const modelSchema = z.object({ id: z.string(), object: z.literal("model"), created: z.number().int(), owned_by: z.string() });

const granularities = z
  .union([z.string(), z.array(z.string())])
  .optional()
  .transform((value, ctx) => {
    const list = value === undefined ? [] : Array.isArray(value) ? value : [value];
    const bad = list.find((g) => g !== "word" && g !== "segment");
    if (bad !== undefined) {
      ctx.addIssue({ code: "custom", message: `expected "word" or "segment" but received ${JSON.stringify(bad)}` });
      return z.NEVER;
    }
    return list as ("word" | "segment")[];
  })
  .meta({ type: "array", items: { type: "string", enum: ["word", "segment"] }, description: "verbose_json detail: word and/or segment. Default segment" });

const commonFields = {
  file: fileField("The audio file"),
  model: textField(`Accepted and ignored: the loaded model answers (list: GET /v1/models). Default ${OPENAI_MODEL_ID}`),
  prompt: limitedTextField("Text given to the decoder as previous context (names, spelling, style); whisper uses its last 223 tokens", "prompt", "prompt"),
  response_format: z.enum(RESPONSE_FORMATS).default("json"),
  temperature: numberField(0, 1, "Sampling temperature; 0 is greedy. Default 0"),
  // Not in OpenAI's API: an extension with faster-whisper's and whisper-asr-webservice's name.
  vad_filter: boolField(undefined, "Extension: voice activity detection (Silero); decode only the speech, in chunks cut at pauses", "the server's WHISPER_VAD"),
};

const languageOption = languageTextField("ISO-639-1 code (or English name) of the audio; omitted: detect");

interface Job {
  task: "transcribe" | "translate";
  format: ResponseFormat;
  words: boolean;
  segments: boolean;
  stream: boolean;
  temperature: number;
  options: WhisperCallOptions;
}

function render(job: Job, result: WhisperBackendResult, audio: DecodedAudio): { type: string; body: unknown } {
  const usage = { type: "duration" as const, seconds: Math.ceil(audio.durationMs / 1000) };
  switch (job.format) {
    case "text":
    case "srt":
      return { type: "text/plain; charset=utf-8", body: renderTranscript(result, job.format) };
    case "vtt":
      return { type: "text/vtt; charset=utf-8", body: renderTranscript(result, job.format) };
    case "verbose_json": {
      const w = result.whisper;
      return {
        type: "application/json; charset=utf-8",
        body: {
          task: job.task,
          language: languageName(result.language) ?? result.language,
          duration: audio.durationMs / 1000,
          text: result.text,
          ...(job.segments ? { segments: toWhisperSegments(w.segments, job.temperature) } : {}),
          ...(job.words ? { words: w.segments.flatMap(wordsOfSegment).map(({ word, start, end }) => ({ word: word.trim(), start, end })) } : {}),
          usage,
        },
      };
    }
    default:
      return { type: "application/json; charset=utf-8", body: { text: result.text, usage } };
  }
}

const sse = (event: unknown) => `data: ${JSON.stringify(event)}\n\n`;

export const openaiRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService; startedAt: number }> = async (app, { service, startedAt }) => {
  // Every POST here transcribes an upload: it is admitted before its body is read (lib/server/limits.ts).
  const config = { dialect: "openai" as const, transcribes: true };
  const errors = { 400: openaiError, 413: openaiError, 503: openaiError, 500: openaiError };
  const created = Math.floor(startedAt / 1000);
  const models = () => {
    const loaded = publicModelName(service.settings.whisperModel);
    const ids = [...new Set([OPENAI_MODEL_ID, loaded])];
    return ids.map((id) => ({ id, object: "model" as const, created, owned_by: "tingwu-whisper" }));
  };

  async function handle(request: FastifyRequest, reply: FastifyReply, file: Parameters<TranscriptionService["decode"]>[0], job: Job) {
    const signal = clientSignal(request, reply);
    const ticket = service.admit(request);
    let streaming = false;
    try {
      const audio = await service.decode(file, { signal });
      if (job.stream) {
        streaming = true;
        return streamTranscription(reply, ticket, audio, job, signal);
      }
      const result = await service.transcribe(ticket, audio, job.options, signal);
      const { type, body } = render(job, result, audio);
      return reply.type(type).send(body);
    } finally {
      if (!streaming) ticket.release();
    }
  }

  /** SSE: a `transcript.text.delta` per segment as whisper finalises it, then `transcript.text.done`. */
  function streamTranscription(reply: FastifyReply, ticket: Ticket, audio: DecodedAudio, job: Job, signal: AbortSignal) {
    const stream = new PassThrough();
    let sent = "";
    const onSegment = (segment: { text: string }) => {
      const delta = sent === "" ? segment.text.trimStart() : segment.text;
      if (delta === "") return;
      sent += delta;
      stream.write(sse({ type: "transcript.text.delta", delta }));
    };
    service
      .transcribe(ticket, audio, { ...job.options, onSegment }, signal)
      .then(
        (result) => {
          const usage = { type: "duration", seconds: Math.ceil(audio.durationMs / 1000) };
          stream.end(sse({ type: "transcript.text.done", text: result.text, usage }));
        },
        (error: unknown) => {
          if (signal.aborted) return void stream.destroy();
          const http = toHttpError(error, service.maxUploadBytes);
          if (http.statusCode >= 500) reply.log.error({ err: error }, "streamed transcription failed");
          stream.end(sse(errorBody("openai", http)));
        },
      )
      .finally(() => ticket.release());
    return reply.type("text/event-stream; charset=utf-8").header("Cache-Control", "no-cache").header("X-Accel-Buffering", "no").send(stream);
  }

  app.post(
    "/v1/audio/transcriptions",
    {
      config,
      schema: {
        tags: ["openai"],
        summary: "Transcribe audio (OpenAI audio API)",
        consumes: ["multipart/form-data"],
        body: z.object({
          ...commonFields,
          language: languageOption,
          chinese_script: chineseScriptField(),
          "timestamp_granularities[]": granularities,
          stream: boolField(false, "Send server-sent events: transcript.text.delta per segment, then transcript.text.done"),
        }),
        response: {
          200: {
            description: "json, verbose_json, text, srt or vtt; text/event-stream with stream=true",
            content: {
              "application/json": { schema: z.union([verboseResponse, jsonResponse]) },
              "text/plain": { schema: z.string() },
              "text/vtt": { schema: z.string() },
              "text/event-stream": { schema: z.string() },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const granular = b["timestamp_granularities[]"];
      const verbose = b.response_format === "verbose_json";
      const words = verbose && granular.includes("word");
      const temperature = b.temperature ?? 0;
      return handle(request, reply, b.file, {
        task: "transcribe",
        format: b.response_format,
        words,
        segments: verbose && (granular.length === 0 || granular.includes("segment")),
        stream: b.stream,
        temperature,
        options: {
          language: requestLanguage(b.language),
          temperature,
          ...(b.prompt ? { initialPrompt: b.prompt } : {}),
          ...(b.chinese_script ? { chineseScript: b.chinese_script } : {}),
          ...(b.vad_filter !== undefined ? { vad: b.vad_filter } : {}),
          ...(verbose ? { includeTokens: true } : {}),
          ...(words ? { tokenTimestamps: true } : {}),
        },
      });
    },
  );

  app.post(
    "/v1/audio/translations",
    {
      config,
      schema: {
        tags: ["openai"],
        summary: "Translate audio into English text (OpenAI audio API)",
        consumes: ["multipart/form-data"],
        body: z.object(commonFields),
        response: {
          200: {
            description: "json, verbose_json, text, srt or vtt",
            content: {
              "application/json": { schema: z.union([verboseResponse, jsonResponse]) },
              "text/plain": { schema: z.string() },
              "text/vtt": { schema: z.string() },
            },
          },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const b = request.body;
      const temperature = b.temperature ?? 0;
      const verbose = b.response_format === "verbose_json";
      return handle(request, reply, b.file, {
        task: "translate",
        format: b.response_format,
        words: false,
        segments: verbose,
        stream: false,
        temperature,
        options: {
          language: LANGUAGE_WHEN_OMITTED.request,
          translate: true,
          temperature,
          ...(b.prompt ? { initialPrompt: b.prompt } : {}),
          ...(b.vad_filter !== undefined ? { vad: b.vad_filter } : {}),
          ...(verbose ? { includeTokens: true } : {}),
        },
      });
    },
  );

  app.get(
    "/v1/models",
    { config, schema: { tags: ["openai"], summary: "The models this server answers to", response: { 200: z.object({ object: z.literal("list"), data: z.array(modelSchema) }) } } },
    async () => ({ object: "list" as const, data: models() }),
  );

  app.get(
    "/v1/models/:model",
    {
      config,
      schema: { tags: ["openai"], summary: "One model", params: z.object({ model: z.string() }), response: { 200: modelSchema, 404: openaiError } },
    },
    async (request) => {
      const model = models().find((m) => m.id === request.params.model);
      if (!model) throw new HttpError(404, `The model '${request.params.model}' does not exist`, { param: "model", code: "model_not_found" });
      return model;
    },
  );
};
