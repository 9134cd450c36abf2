// The whisper-asr-webservice dialect (`/asr`, `/detect-language`) that subtitle tools speak:
// options in the query string, the upload in `audio_file`, text/plain attachments back.
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { languageName, requestLanguage } from "../../languages.js";
import { renderTranscript, transcribeOptionsFor } from "../../formats/render.js";
import { HttpError } from "../errors.js";
import { boolField, chineseScriptField, fileField, languageTextField, limitedTextField } from "../multipart.js";
import { detailError } from "../schemas.js";
import { clientSignal } from "../service.js";
import type { TranscriptionService } from "../service.js";

export const ASR_OUTPUTS = ["txt", "vtt", "srt", "tsv", "json"] as const;

const encodeParam = boolField(true, "false: audio_file is raw s16le PCM, 16 kHz mono, instead of a media file");

const languageParam = languageTextField("Language code or English name; omitted: detect");

/** `attachment; filename="…"` that survives any upload name (quoted ASCII plus RFC 5987 UTF-8). */
export function attachment(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(name)}`;
}

export const asrWebserviceRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService }> = async (app, { service }) => {
  // Every POST here transcribes an upload: it is admitted before its body is read (lib/server/limits.ts).
  const config = { dialect: "asr" as const, transcribes: true };
  const errors = { 400: detailError, 413: detailError, 503: detailError, 500: detailError };
  const body = z.object({ audio_file: fileField("The media file, or raw s16le PCM with encode=false") });

  app.post(
    "/asr",
    {
      config,
      schema: {
        tags: ["whisper-asr-webservice"],
        summary: "Transcribe or translate; the result is a text attachment in the chosen format",
        consumes: ["multipart/form-data"],
        querystring: z.object({
          encode: encodeParam,
          task: z.enum(["transcribe", "translate"]).default("transcribe"),
          language: languageParam,
          initial_prompt: limitedTextField("Text given to the decoder as previous context", "initial_prompt", "prompt"),
          vad_filter: boolField(undefined, "Voice activity detection (Silero): decode only the speech, in chunks cut at pauses; timestamps stay in the file's time", "the server's WHISPER_VAD"),
          word_timestamps: boolField(false, "Add per-word timings to the json output"),
          output: z.enum(ASR_OUTPUTS).default("txt"),
          chinese_script: chineseScriptField(),
        }),
        body,
        response: {
          200: { description: "The transcript as an attachment (text/plain, also for json)", content: { "text/plain": { schema: z.string() } } },
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const { query } = request;
      const upload = request.body.audio_file;
      const signal = clientSignal(request, reply);
      const ticket = service.admit(request);
      let text: string;
      try {
        const audio = await service.decode(upload, { raw: !query.encode, signal, param: "audio_file" });
        const result = await service.transcribe(
          ticket,
          audio,
          {
            language: requestLanguage(query.language),
            translate: query.task === "translate",
            ...(query.initial_prompt ? { initialPrompt: query.initial_prompt } : {}),
            ...(query.chinese_script ? { chineseScript: query.chinese_script } : {}),
            ...(query.vad_filter !== undefined ? { vad: query.vad_filter } : {}),
            ...transcribeOptionsFor(query.output, { words: query.word_timestamps }),
          },
          signal,
        );
        text = renderTranscript(result, query.output, { words: query.word_timestamps });
      } finally {
        ticket.release();
      }
      const name = upload.filename || "audio";
      return reply
        .header("Asr-Engine", "whisper.cpp")
        .header("Content-Disposition", attachment(`${name}.${query.output}`))
        .type("text/plain; charset=utf-8")
        .send(text);
    },
  );

  app.post(
    "/detect-language",
    {
      config,
      schema: {
        tags: ["whisper-asr-webservice"],
        summary: "Detect the spoken language from the first 30 s",
        consumes: ["multipart/form-data"],
        querystring: z.object({ encode: encodeParam }),
        body,
        response: {
          200: z.object({ detected_language: z.string(), language_code: z.string(), confidence: z.number().meta({ description: "Probability of the detected language, 0 to 1" }) }),
          ...errors,
        },
      },
    },
    async (request, reply) => {
      const signal = clientSignal(request, reply);
      const ticket = service.admit(request);
      try {
        const audio = await service.decode(request.body.audio_file, { raw: !request.query.encode, signal, param: "audio_file" });
        const detection = await service.detectLanguage(ticket, audio, signal);
        const name = languageName(detection.language);
        if (name === undefined) throw new HttpError(500, `whisper.cpp reported an unknown language code ${JSON.stringify(detection.language)}`);
        return { detected_language: name, language_code: detection.language, confidence: detection.probability };
      } finally {
        ticket.release();
      }
    },
  );
};
