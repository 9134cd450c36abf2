// Durable transcription jobs: what a job is, what it yields, and the one interface both queues
// (in-process and BullMQ) implement. Everything in a JobSpec or JobResult is plain JSON, since it
// travels through Redis and job files.
import type { WhisperCallOptions } from "../backends/whisper.js";
import type { SentenceInfo } from "../backends/types.js";
import type { Segment } from "../whisper.js";

/** Where a job is in its life. `cancelled` is final, like `completed` and `failed`. */
export const JOB_STATES = ["waiting", "active", "completed", "failed", "cancelled"] as const;
export type JobState = (typeof JOB_STATES)[number];

/** True for the states a job never leaves. */
export function isFinal(state: JobState): boolean {
  return state === "completed" || state === "failed" || state === "cancelled";
}

/** Formats a job's result can be read in (`GET /api/v1/jobs/:id?format=`). */
export const RESULT_FORMATS = ["json", "verbose_json", "text", "srt", "vtt", "tsv", "tingwu"] as const;
export type ResultFormat = (typeof RESULT_FORMATS)[number];

/** Decoder options a job carries: the sync routes' options without the callbacks and signal. */
export type JobOptions = Omit<WhisperCallOptions, "signal" | "onProgress" | "onSegment">;

/** What to transcribe: stored audio (`ref` from an AudioStore) or a URL fetched by the worker. */
export type JobSource = { kind: "audio"; ref: string; filename: string; bytes: number } | { kind: "url"; url: string };

/** A job as queued. */
export interface JobSpec {
  source: JobSource;
  options: JobOptions;
  /** Default format of the result. */
  format: ResultFormat;
  /** POSTed to when the job ends (see webhook.ts). */
  webhookUrl?: string;
}

/** What a finished job yields (the renderers in render.ts make every format from it). */
export interface JobResult {
  text: string;
  language: string;
  durationMs: number;
  sentence_info: SentenceInfo[];
  /** whisper.cpp's segments (tokens included when the options asked for them). */
  segments: Segment[];
  /** The temperature asked for (verbose_json reports it per segment). */
  temperature: number;
}

/** A job as the API reports it. */
export interface JobInfo {
  id: string;
  state: JobState;
  /** 0 to 100. */
  progress: number;
  /** Epoch ms. */
  createdAt: number;
  startedAt?: number;
  finishedAt?: number;
  /** Runs started (retries and stalled-job recoveries included). */
  attempts: number;
  format: ResultFormat;
  error?: string;
  result?: JobResult;
}

/** A new job: the spec without its stored audio, plus the audio bytes when it has them. */
export interface JobSubmission {
  audio?: { data: Buffer; filename: string };
  url?: string;
  options: JobOptions;
  format: ResultFormat;
  webhookUrl?: string;
}

/** One page of jobs, most recent first. */
export interface JobPage {
  total: number;
  jobs: JobInfo[];
}

/** The jobs of this service: in-process (default) or BullMQ on Redis (`REDIS_URL`). */
export interface JobQueue {
  readonly kind: "in-process" | "bullmq";
  /** Stores the audio and queues the job; resolves with its id. */
  submit(submission: JobSubmission): Promise<string>;
  get(id: string): Promise<JobInfo | undefined>;
  /** Cancels a job that has not finished (a running one is aborted on its worker). */
  cancel(id: string): Promise<JobInfo | undefined>;
  /** Forgets a finished job now rather than at the end of its TTL; false if it is unknown or not finished. */
  remove(id: string): Promise<boolean>;
  list(offset: number, limit: number): Promise<JobPage>;
  /** Resolves once the job is final (or undefined if it disappears); rejects with AbortError on `signal`. */
  waitUntilFinal(id: string, signal?: AbortSignal): Promise<JobInfo | undefined>;
  close(): Promise<void>;
}

/** The failure recorded for a cancelled job. */
export const CANCELLED_MESSAGE = "The job was cancelled";
