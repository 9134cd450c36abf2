// The plain jobs API: submit (a file or a URL, with the sync routes' options), read (state,
// progress, result in any format), cancel, list. Errors are TingWu's {"detail": "..."}.
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { encodeWavPcm16 } from "../../audio/wav.js";
import { renderResult } from "../../jobs/render.js";
import { JOB_STATES, RESULT_FORMATS } from "../../jobs/types.js";
import type { JobInfo, JobOptions, JobQueue } from "../../jobs/types.js";
import { checkUrl } from "../../jobs/fetch-url.js";
import { MAX_DECODERS } from "../../options.js";
import { asrOptionsField } from "../asr-options.js";
import { HttpError } from "../errors.js";
import { boolField, languageTextField, numberField, textField } from "../multipart.js";
import { isUploadedFile } from "../multipart.js";
import type { UploadedFile } from "../multipart.js";
import { detailError } from "../schemas.js";
import { clientSignal } from "../service.js";
import type { TranscriptionService } from "../service.js";

const jobSchema = z.object({
  id: z.string(),
  state: z.enum(JOB_STATES),
  progress: z.number().meta({ description: "Percent done, 0 to 100" }),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  attempts: z.number().int(),
  error: z.string().nullable(),
  format: z.enum(RESULT_FORMATS),
  result: z.unknown().optional().meta({ description: "When completed: the transcript in `format` (an object for json, verbose_json and tingwu; text otherwise)" }),
});

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** A job in the API's shape; the result rendered in `format` (default: the one asked for at submission). */
export function jobResponse(job: JobInfo, format = job.format, withResult = true): z.infer<typeof jobSchema> {
  return {
    id: job.id,
    state: job.state,
    progress: job.progress,
    created_at: iso(job.createdAt)!,
    started_at: iso(job.startedAt),
    finished_at: iso(job.finishedAt),
    attempts: job.attempts,
    error: job.error ?? null,
    format,
    ...(withResult && job.result ? { result: renderResult(job.result, format) } : {}),
  };
}

/** An upload, or a form/JSON field: the file (multipart) is optional when a URL is given. */
const optionalFile = z
  .custom<UploadedFile>(isUploadedFile, { message: "expected a file upload (multipart/form-data file part)" })
  .optional()
  .meta({ type: "string", format: "binary", description: "The audio or video file (multipart); or give url" });

/** asr_options as JSON text (forms) or as an object (JSON bodies). */
const asrOptions = z.preprocess((value) => (value !== null && typeof value === "object" && !Array.isArray(value) ? JSON.stringify(value) : value), asrOptionsField);

const submitBody = z.object({
  file: optionalFile,
  url: textField("An http(s) URL the worker downloads the audio or video from (instead of file)"),
  file_type: z.enum(["audio", "video"]).default("audio").meta({ description: "video: the audio track is extracted (ffmpeg) before the job is queued. Default audio" }),
  language: languageTextField("Language code or English name; omitted: the server's WHISPER_LANGUAGE"),
  task: z.enum(["transcribe", "translate"]).default("transcribe"),
  prompt: textField("Text given to the decoder as previous context"),
  hotwords: textField("Hotwords, one per line (the decoder prompt)"),
  temperature: numberField(0, 1, "Sampling temperature; 0 is greedy. Default 0"),
  beam_size: numberField(1, MAX_DECODERS, `Beam width, 1 to ${MAX_DECODERS}. Default 1 (greedy)`, true),
  word_timestamps: boolField(false, "Word timings (in verbose_json)"),
  asr_options: asrOptions,
  response_format: z.enum(RESULT_FORMATS).default("json").meta({ description: "Default format of the result: json, verbose_json, text, srt, vtt, tsv or tingwu. Default json" }),
  webhook_url: textField("POSTed {id, state, error?, result?} when the job ends (signed when JOB_WEBHOOK_SECRET is set)"),
});

type SubmitBody = z.infer<typeof submitBody>;

/** The decoder options of a submission: asr_options.backend, then the plain fields over it. */
function jobOptions(b: SubmitBody): JobOptions {
  return {
    ...b.asr_options.backend,
    ...(b.language !== undefined ? { language: b.language } : {}),
    ...(b.task === "translate" ? { translate: true } : {}),
    ...(b.temperature !== undefined ? { temperature: b.temperature } : {}),
    ...(b.beam_size !== undefined ? { beamSize: b.beam_size } : {}),
    ...(b.prompt ? { initialPrompt: b.prompt } : {}),
    ...(b.hotwords ? { hotwords: b.hotwords } : {}),
    ...(b.response_format === "verbose_json" ? { includeTokens: true } : {}),
    ...(b.word_timestamps ? { tokenTimestamps: true } : {}),
  };
}

/**
 * A submission's audio: the upload as is, or for a video its audio track (16 kHz mono WAV, decoded
 * by ffmpeg here so workers get a small file and a bad video is refused now with 400).
 */
export async function jobAudio(service: TranscriptionService, file: UploadedFile, video: boolean, signal: AbortSignal): Promise<{ data: Buffer; filename: string }> {
  if (!video) {
    if (file.data.length === 0) throw new HttpError(400, "The uploaded file is empty", { param: "file", code: "invalid_audio" });
    return { data: file.data, filename: file.filename };
  }
  const audio = await service.decode(file, { signal });
  return { data: encodeWavPcm16(audio.samples), filename: `${file.filename || "video"}.wav` };
}

export const jobsRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService; jobs: JobQueue }> = async (app, { service, jobs }) => {
  const config = { dialect: "tingwu" as const };
  const errors = { 400: detailError, 404: detailError, 409: detailError, 413: detailError, 503: detailError, 500: detailError };
  const idParams = z.object({ id: z.string().min(1).max(128) });
  const notFound = (id: string) => new HttpError(404, `No job ${JSON.stringify(id)} (unknown, or its result expired after JOB_RESULT_TTL_S)`, { code: "job_not_found" });

  app.post(
    "/api/v1/jobs",
    {
      config,
      schema: {
        tags: ["jobs"],
        summary: "Queue a transcription: a file (multipart) or a URL (multipart or JSON); answers 202 with the job id",
        consumes: ["multipart/form-data", "application/json"],
        body: submitBody,
        response: { 202: z.object({ id: z.string(), state: z.enum(JOB_STATES), url: z.string() }), ...errors },
      },
    },
    async (request, reply) => {
      const b = request.body;
      if ((b.file === undefined) === (b.url === undefined || b.url.trim() === "")) {
        throw new HttpError(400, "Give exactly one of file (a multipart upload) and url", { param: b.file ? "url" : "file", code: "invalid_value" });
      }
      if (b.webhook_url) checkUrl(b.webhook_url, service.settings.allowPrivateUrls);
      const audio = b.file ? await jobAudio(service, b.file, b.file_type === "video", clientSignal(request, reply)) : undefined;
      const id = await jobs.submit({
        ...(audio ? { audio } : { url: b.url!.trim() }),
        options: jobOptions(b),
        format: b.response_format,
        ...(b.webhook_url ? { webhookUrl: b.webhook_url } : {}),
      });
      return reply.code(202).header("location", `/api/v1/jobs/${id}`).send({ id, state: "waiting" as const, url: `/api/v1/jobs/${id}` });
    },
  );

  app.get(
    "/api/v1/jobs/:id",
    {
      config,
      schema: {
        tags: ["jobs"],
        summary: "A job: state, progress, and when completed its result",
        params: idParams,
        querystring: z.object({ format: z.enum(RESULT_FORMATS).optional().meta({ description: "Result format; default: the submission's response_format" }) }),
        response: { 200: jobSchema, ...errors },
      },
    },
    async (request) => {
      const job = await jobs.get(request.params.id);
      if (!job) throw notFound(request.params.id);
      return jobResponse(job, request.query.format ?? job.format);
    },
  );

  app.delete(
    "/api/v1/jobs/:id",
    {
      config,
      schema: { tags: ["jobs"], summary: "Cancel a job (a running one is aborted on its worker); 409 when it already finished", params: idParams, response: { 200: jobSchema, ...errors } },
    },
    async (request) => {
      const before = await jobs.get(request.params.id);
      if (!before) throw notFound(request.params.id);
      if (before.state === "completed" || before.state === "failed") throw new HttpError(409, `The job already finished (${before.state})`, { code: "job_finished" });
      const job = await jobs.cancel(request.params.id);
      if (!job) throw notFound(request.params.id);
      return jobResponse(job, job.format, false);
    },
  );

  app.get(
    "/api/v1/jobs",
    {
      config,
      schema: {
        tags: ["jobs"],
        summary: "Recent jobs, paged (results are read one job at a time)",
        querystring: z.object({ offset: numberField(0, 1e9, "Jobs to skip. Default 0", true), limit: numberField(1, 500, "Jobs per page, 1 to 500. Default 50", true) }),
        response: { 200: z.object({ total: z.number().int(), offset: z.number().int(), limit: z.number().int(), jobs: z.array(jobSchema) }), ...errors },
      },
    },
    async (request) => {
      const offset = request.query.offset ?? 0;
      const limit = request.query.limit ?? 50;
      const page = await jobs.list(offset, limit);
      return { total: page.total, offset, limit, jobs: page.jobs.map((j) => jobResponse(j, j.format, false)) };
    },
  );
};
