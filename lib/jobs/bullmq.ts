// Jobs on BullMQ (REDIS_URL): the API side. The job record is BullMQ's own (state, progress,
// return value, failure, attempts); results expire with BullMQ's removeOnComplete/removeOnFail
// age (JOB_RESULT_TTL_S). A cancel is a marker key (which a worker checks when it picks a job up
// and while it runs it) plus a message on a channel (which aborts a running job at once).
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { Queue } from "bullmq";
import type { Job, JobType } from "bullmq";
import { Redis } from "ioredis";
import type { RedisOptions } from "ioredis";
import type { Settings } from "../config.js";
import { AbortError } from "../errors.js";
import { HttpError } from "../server/errors.js";
import { checkUrl } from "./fetch-url.js";
import { checkStorageSupported, DirAudioStore, RedisAudioStore } from "./storage.js";
import { CANCELLED_MESSAGE, isFinal } from "./types.js";
import type { JobInfo, JobPage, JobQueue, JobResult, JobSpec, JobState, JobSubmission } from "./types.js";

/** BullMQ's queue name and key prefix. */
export const QUEUE_NAME = "transcribe";
export const KEY_PREFIX = "tingwu";
/** Channel on which cancelled job ids are published to the workers. */
export const CANCEL_CHANNEL = `${KEY_PREFIX}:cancel`;
export const cancelKey = (id: string) => `${KEY_PREFIX}:cancelled:${id}`;

/** A Redis connection (ioredis) for BullMQ. Workers must wait out an outage (`blocking`); the API retries a few times, then answers 503. */
export function connectRedis(url: string, blocking: boolean): Redis {
  const options: RedisOptions = blocking ? { maxRetriesPerRequest: null } : { maxRetriesPerRequest: 10 };
  return new Redis(url, { ...options, lazyConnect: false });
}

/** The audio store of BullMQ mode (Redis for small files, JOB_STORAGE=dir: for the rest). */
export function bullAudioStore(settings: Settings, redis: Redis): RedisAudioStore {
  checkStorageSupported(settings.jobStorage);
  return new RedisAudioStore({
    redis,
    prefix: KEY_PREFIX,
    maxRedisBytes: Math.floor(settings.jobRedisAudioMaxMb * 1024 * 1024),
    // The audio outlives any queue wait a job may reasonably have, and is deleted when the job ends.
    ttlS: Math.max(settings.jobResultTtlS, 7 * 86_400),
    ...(settings.jobStorage?.kind === "dir" ? { dir: new DirAudioStore(settings.jobStorage.path) } : {}),
  });
}

const BULL_STATES: Record<string, JobState> = {
  waiting: "waiting",
  prioritized: "waiting",
  delayed: "waiting",
  "waiting-children": "waiting",
  active: "active",
  completed: "completed",
  failed: "failed",
};

/** A BullMQ job as the API reports it; `cancelled` when its marker is set and it has not completed. */
export function jobInfo(job: Job<JobSpec, JobResult>, bullState: string, cancelMarked: boolean): JobInfo | undefined {
  let state = BULL_STATES[bullState];
  if (state === undefined || job.id === undefined) return undefined;
  if (state === "failed" && job.failedReason === CANCELLED_MESSAGE) state = "cancelled";
  if (cancelMarked && !isFinal(state)) state = "cancelled";
  const info: JobInfo = {
    id: job.id,
    state,
    progress: state === "completed" ? 100 : typeof job.progress === "number" ? job.progress : 0,
    createdAt: job.timestamp,
    attempts: job.attemptsStarted ?? job.attemptsMade,
    format: job.data.format,
  };
  if (job.processedOn) info.startedAt = job.processedOn;
  if (job.finishedOn) info.finishedAt = job.finishedOn;
  if (state === "completed" && job.returnvalue) info.result = job.returnvalue;
  if ((state === "failed" || state === "cancelled") && job.failedReason) info.error = job.failedReason;
  if (state === "cancelled") info.error = CANCELLED_MESSAGE;
  // A retry that is waiting reports why the last attempt failed.
  if (state === "waiting" && job.failedReason) info.error = job.failedReason;
  return info;
}

/** Job types walked by {@link BullJobQueue.list}, in the order listed. */
const LIST_TYPES: JobType[] = ["active", "waiting", "prioritized", "delayed", "failed", "completed"];

export class BullJobQueue implements JobQueue {
  readonly kind = "bullmq" as const;
  readonly #settings: Settings;
  readonly #redis: Redis;
  readonly #queue: Queue<JobSpec, JobResult>;
  readonly #store: RedisAudioStore;

  constructor(settings: Settings) {
    if (!settings.redisUrl) throw new RangeError("BullJobQueue needs REDIS_URL");
    this.#settings = settings;
    this.#redis = connectRedis(settings.redisUrl, false);
    // A connection error is retried by ioredis; the calls that fail meanwhile answer 503.
    this.#redis.on("error", () => {});
    this.#store = bullAudioStore(settings, this.#redis);
    this.#queue = new Queue<JobSpec, JobResult>(QUEUE_NAME, { connection: this.#redis, prefix: KEY_PREFIX });
    this.#queue.on("error", () => {});
  }

  async submit(submission: JobSubmission): Promise<string> {
    const id = randomUUID();
    let source: JobSpec["source"];
    if (submission.audio) {
      const ref = await this.#call(() => this.#store.put(id, submission.audio!.data));
      source = { kind: "audio", ref, filename: submission.audio.filename, bytes: submission.audio.data.length };
    } else {
      source = { kind: "url", url: checkUrl(submission.url ?? "", this.#settings.allowPrivateUrls).href };
    }
    const spec: JobSpec = { source, options: submission.options, format: submission.format, ...(submission.webhookUrl ? { webhookUrl: submission.webhookUrl } : {}) };
    const ttl = this.#settings.jobResultTtlS;
    await this.#call(() =>
      this.#queue.add("transcribe", spec, {
        jobId: id,
        attempts: this.#settings.jobAttempts,
        backoff: { type: "exponential", delay: 2000 },
        removeOnComplete: { age: ttl },
        removeOnFail: { age: ttl },
      }),
    );
    return id;
  }

  async get(id: string): Promise<JobInfo | undefined> {
    return this.#call(async () => {
      // The state first: a job read after it shows "completed" holds its return value.
      const [state, marked] = await Promise.all([this.#queue.getJobState(id), this.#redis.exists(cancelKey(id))]);
      const job = (await this.#queue.getJob(id)) as Job<JobSpec, JobResult> | undefined;
      return job && jobInfo(job, state, marked === 1);
    });
  }

  async cancel(id: string): Promise<JobInfo | undefined> {
    const before = await this.get(id);
    if (!before || isFinal(before.state)) return before;
    await this.#call(async () => {
      await this.#redis.set(cancelKey(id), "1", "EX", this.#settings.jobResultTtlS);
      await this.#redis.publish(CANCEL_CHANNEL, id);
    });
    return this.get(id);
  }

  async remove(id: string): Promise<boolean> {
    return this.#call(async () => {
      const job = await this.#queue.getJob(id);
      if (!job || !isFinal(BULL_STATES[await job.getState()] ?? "waiting")) return false;
      await job.remove();
      await this.#redis.del(cancelKey(id));
      return true;
    });
  }

  async list(offset: number, limit: number): Promise<JobPage> {
    return this.#call(async () => {
      const counts = await this.#queue.getJobCounts(...LIST_TYPES);
      const total = LIST_TYPES.reduce((sum, type) => sum + (counts[type] ?? 0), 0);
      const jobs: JobInfo[] = [];
      let skip = offset;
      for (const type of LIST_TYPES) {
        const count = counts[type] ?? 0;
        if (skip >= count) {
          skip -= count;
          continue;
        }
        const want = limit - jobs.length;
        if (want <= 0) break;
        const page = (await this.#queue.getJobs([type], skip, skip + want - 1, false)) as Job<JobSpec, JobResult>[];
        skip = 0;
        for (const job of page) {
          const info = jobInfo(job, type, (await this.#redis.exists(cancelKey(job.id!))) === 1);
          if (info) jobs.push(info);
        }
      }
      return { total, jobs };
    });
  }

  async waitUntilFinal(id: string, signal?: AbortSignal): Promise<JobInfo | undefined> {
    let delay = 100;
    for (;;) {
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      const info = await this.get(id).catch((error: unknown) => {
        // Redis restarting: keep waiting.
        if (error instanceof HttpError && error.statusCode === 503) return null;
        throw error;
      });
      if (info === undefined || (info && isFinal(info.state))) return info;
      await sleep(delay, undefined, signal ? { signal } : {}).catch(() => {});
      delay = Math.min(1000, delay * 1.5);
    }
  }

  async close(): Promise<void> {
    await this.#queue.close().catch(() => {});
    this.#redis.disconnect();
  }

  /** Redis trouble becomes a 503 the client can retry. */
  async #call<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof HttpError || error instanceof RangeError || error instanceof TypeError) throw error;
      throw new HttpError(503, `The job queue (Redis) is unavailable: ${(error as Error).message}`, { code: "queue_unavailable", headers: { "Retry-After": "5" }, cause: error });
    }
  }
}
