// TingWu's async routes on the job queue, with TingWu's shapes: `/api/v1/trans/url` queues a URL
// and answers a task id, `/api/v1/result` reports it (always HTTP 200, the outcome in `code`), and
// `/api/v1/trans/video` extracts a video's audio, runs it as a job and answers the transcription
// when it is done (TingWu's frontend waits for it), cancelling the job if the client leaves.
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import type { JobInfo, JobQueue } from "../../jobs/types.js";
import { renderResult } from "../../jobs/render.js";
import { HttpError } from "../errors.js";
import { boolField, fileField, textField } from "../multipart.js";
import { detailError } from "../schemas.js";
import { clientSignal } from "../service.js";
import type { TranscriptionService } from "../service.js";
import { jobAudio } from "./jobs.js";
import type { HotwordStore } from "../../tingwu/hotword-store.js";
import type { RuntimeConfig } from "../runtime-config.js";
import { commonFields, tingwuCallOptions, tingwuTranscribeResponse, toTingWu } from "./tingwu.js";

/** TingWu's fields that drive its LLM stage, which this service doesn't have: accepted and ignored. */
const llmFields = {
  apply_llm: boolField(false, "Accepted and ignored (no LLM stage here)"),
  llm_role: textField("Accepted and ignored (no LLM stage here)"),
};

const taskData = z.object({ task_id: z.string() });

const resultResponse = z.union([
  z.object({ code: z.literal(200), status: z.literal("success"), message: z.string(), data: tingwuTranscribeResponse }),
  z.object({ code: z.literal(202), status: z.enum(["pending", "processing"]), message: z.string(), data: taskData }),
  z.object({ code: z.literal(500), status: z.literal("error"), message: z.string(), data: taskData }),
  z.object({ code: z.literal(404), status: z.literal("error"), message: z.string() }),
]);

export const tingwuAsyncRoutes: FastifyPluginAsyncZod<{ service: TranscriptionService; jobs: JobQueue; hotwords: HotwordStore; runtime: RuntimeConfig }> = async (
  app,
  { service, jobs, hotwords, runtime },
) => {
  const config = { dialect: "tingwu" as const };
  // The same hotword decision as the sync routes: the request's, else the stored lists.
  const callOptions = (fields: Parameters<typeof tingwuCallOptions>[2]) => tingwuCallOptions(hotwords, runtime, fields);
  const errors = { 400: detailError, 413: detailError, 503: detailError, 500: detailError };

  app.post(
    "/api/v1/trans/url",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Transcribe audio or video from a URL, asynchronously: answers a task_id for /api/v1/result",
        consumes: ["multipart/form-data"],
        body: z.object({ audio_url: z.string({ error: "expected a single text value" }).meta({ description: "The audio or video URL (http or https)" }), ...commonFields, ...llmFields }),
        response: {
          200: z.object({ code: z.literal(200), status: z.literal("success"), message: z.string(), data: taskData }),
          ...errors,
        },
      },
    },
    async (request) => {
      const taskId = await jobs.submit({ url: request.body.audio_url.trim(), options: callOptions(request.body), format: "tingwu" });
      return { code: 200 as const, status: "success" as const, message: "任务已提交", data: { task_id: taskId } };
    },
  );

  app.post(
    "/api/v1/result",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "The state or result of a task from /api/v1/trans/url (HTTP 200; the outcome is in code)",
        consumes: ["multipart/form-data"],
        body: z.object({
          task_id: z.string({ error: "expected a single text value" }).meta({ description: "The task id" }),
          delete: boolField(true, "Forget the task once it has finished and this answer reports it"),
        }),
        response: { 200: resultResponse, ...errors },
      },
    },
    async (request) => {
      const { task_id: taskId } = request.body;
      const job = await jobs.get(taskId);
      if (!job) return { code: 404 as const, status: "error" as const, message: "任务不存在或已过期" };
      const data = { task_id: taskId };
      if (job.state === "waiting") return { code: 202 as const, status: "pending" as const, message: "任务等待中", data };
      if (job.state === "active") return { code: 202 as const, status: "processing" as const, message: "任务处理中", data };
      if (request.body.delete) await jobs.remove(taskId);
      if (job.state === "completed" && job.result) {
        return { code: 200 as const, status: "success" as const, message: "获取结果成功", data: renderResult(job.result, "tingwu") as z.infer<typeof tingwuTranscribeResponse> };
      }
      return { code: 500 as const, status: "error" as const, message: job.error ?? "任务失败", data };
    },
  );

  app.post(
    "/api/v1/trans/video",
    {
      config,
      schema: {
        tags: ["tingwu"],
        summary: "Transcribe a video: its audio is extracted (ffmpeg) and run as a job; answers when done",
        consumes: ["multipart/form-data"],
        body: z.object({ file: fileField("The video (or audio) file"), ...commonFields, ...llmFields }),
        response: { 200: tingwuTranscribeResponse, ...errors },
      },
    },
    async (request, reply) => {
      const signal = clientSignal(request, reply);
      const audio = await jobAudio(service, request.body.file, true, signal);
      const id = await jobs.submit({ audio, options: callOptions(request.body), format: "tingwu" });
      let job: JobInfo | undefined;
      try {
        job = await jobs.waitUntilFinal(id, signal);
      } catch (error) {
        if (signal.aborted) await jobs.cancel(id).catch(() => {});
        throw error;
      }
      await jobs.remove(id).catch(() => false);
      if (job?.state === "completed" && job.result) return toTingWu(job.result);
      throw new HttpError(500, `转写失败: ${job?.error ?? "the job disappeared"}`, { code: "job_failed" });
    },
  );
};
