// A BullMQ worker: pulls jobs, runs them on its own model (its own GPU with WHISPER_GPU_DEVICE),
// reports progress, and handles the ways a job ends early:
// - cancelled: a marker seen at pick-up or while running, or a message on the cancel channel;
// - bad input: fails once (UnrecoverableError), no retry; anything else is retried with backoff;
// - SIGTERM: running jobs get the drain time to finish, then are handed back to the queue;
// - SIGKILL or a lost machine: the lock lapses and BullMQ's stalled-job check on another worker
//   queues the job again (JOB_LOCK_MS).
import { UnrecoverableError, WaitingError, Worker } from "bullmq";
import type { Job } from "bullmq";
import type { FastifyBaseLogger } from "fastify";
import type { Settings } from "../config.js";
import type { TranscriptionService } from "../server/service.js";
import { bullAudioStore, CANCEL_CHANNEL, cancelKey, connectRedis, jobInfo, KEY_PREFIX, QUEUE_NAME } from "./bullmq.js";
import { failureMessage, isPermanentFailure, runJob } from "./runner.js";
import { CANCELLED_MESSAGE } from "./types.js";
import type { JobResult, JobSpec } from "./types.js";
import { deliverWebhook } from "./webhook.js";

/** How often a running job checks its cancel marker (the channel is the fast path). */
const CANCEL_POLL_MS = 2000;
/** Progress is written to Redis at most this often. */
const PROGRESS_INTERVAL_MS = 500;
const SHUTDOWN = "shutdown";

export interface JobWorker {
  readonly worker: Worker<JobSpec, JobResult>;
  /** Jobs running now. */
  readonly running: number;
  /**
   * Stops taking jobs; running ones get `drainTimeoutMs` to finish, then are handed back to the
   * queue for another worker. Idempotent.
   */
  close(drainTimeoutMs?: number): Promise<void>;
}

export interface StartJobWorkerOptions {
  service: TranscriptionService;
  log: FastifyBaseLogger;
}

/** Starts consuming jobs on `service`'s model (loaded first). */
export async function startJobWorker(settings: Settings, options: StartJobWorkerOptions): Promise<JobWorker> {
  const { service, log } = options;
  if (!settings.redisUrl) throw new RangeError("The job worker needs REDIS_URL");
  const redis = connectRedis(settings.redisUrl, true);
  redis.on("error", (error: Error) => log.warn({ err: error.message }, "redis connection error (retrying)"));
  const store = bullAudioStore(settings, redis);
  const cancelled = new Set<string>();
  let handingBack = false;
  let running = 0;

  await service.manager.getBackend();

  const processor = async (job: Job<JobSpec, JobResult>, token?: string, signal?: AbortSignal): Promise<JobResult> => {
    const id = job.id!;
    if ((await redis.exists(cancelKey(id))) === 1) throw new UnrecoverableError(CANCELLED_MESSAGE);
    running++;
    const local = new AbortController();
    const poll = setInterval(() => {
      redis.exists(cancelKey(id)).then(
        (marked) => {
          if (marked === 1) {
            cancelled.add(id);
            local.abort(new Error(CANCELLED_MESSAGE));
          }
        },
        () => {},
      );
    }, CANCEL_POLL_MS);
    let lastProgress = 0;
    let lastWrite = 0;
    try {
      log.info({ job: id, attempt: job.attemptsMade + 1 }, "job started");
      const result = await runJob(service, store, job.data, {
        signal: signal ? AbortSignal.any([signal, local.signal]) : local.signal,
        onProgress: (percent) => {
          const now = Date.now();
          const value = Math.min(99, Math.round(percent));
          if (value <= lastProgress || now - lastWrite < PROGRESS_INTERVAL_MS) return;
          lastProgress = value;
          lastWrite = now;
          job.updateProgress(value).catch(() => {});
        },
      });
      return result;
    } catch (error) {
      if (cancelled.has(id) || signal?.reason === CANCELLED_MESSAGE) throw new UnrecoverableError(CANCELLED_MESSAGE);
      if (handingBack && signal?.aborted) {
        log.info({ job: id }, "shutting down: handing the job back to the queue");
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const message = failureMessage(error, service.maxUploadBytes);
      if (isPermanentFailure(error, service.maxUploadBytes)) throw new UnrecoverableError(message);
      log.error({ err: error, job: id, attempt: job.attemptsMade + 1 }, "job failed (may be retried)");
      throw new Error(message);
    } finally {
      clearInterval(poll);
      cancelled.delete(id);
      running--;
    }
  };

  const worker = new Worker<JobSpec, JobResult>(QUEUE_NAME, processor, {
    connection: redis,
    prefix: KEY_PREFIX,
    concurrency: settings.whisperPoolSize,
    lockDuration: settings.jobLockMs,
    stalledInterval: settings.jobLockMs,
    // A job whose worker vanished is run again; one that keeps killing its workers fails.
    maxStalledCount: 2,
    autorun: false,
  });
  worker.on("error", (error) => log.warn({ err: error.message }, "worker error"));

  const subscriber = redis.duplicate();
  subscriber.on("error", () => {});
  subscriber.on("message", (_channel: string, id: string) => {
    cancelled.add(id);
    if (worker.cancelJob(id, CANCELLED_MESSAGE)) log.info({ job: id }, "job cancelled while running");
  });
  await subscriber.subscribe(CANCEL_CHANNEL);

  const finished = async (job: Job<JobSpec, JobResult>, bullState: "completed" | "failed") => {
    log.info({ job: job.id, state: bullState, error: job.failedReason }, "job finished");
    if (job.data.source.kind === "audio") await store.delete(job.data.source.ref).catch(() => {});
    const { webhookUrl } = job.data;
    if (!webhookUrl) return;
    const info = jobInfo(job, bullState, (await redis.exists(cancelKey(job.id!)).catch(() => 0)) === 1);
    if (!info) return;
    await deliverWebhook(webhookUrl, info, {
      secret: settings.jobWebhookSecret,
      allowPrivate: settings.allowPrivateUrls,
      onError: (error, attempt) => log.warn({ err: error, job: job.id, attempt }, "webhook delivery failed"),
    });
  };
  worker.on("completed", (job) => void finished(job, "completed"));
  worker.on("failed", (job, error) => {
    if (!job) return;
    // Only the last failure: bad input, cancel, or out of attempts (retries fire this too).
    const final = error instanceof UnrecoverableError || error.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
    if (final) void finished(job, "failed");
  });

  void worker.run().catch((error: unknown) => log.error({ err: error }, "worker stopped"));
  await worker.waitUntilReady();
  log.info({ queue: QUEUE_NAME, concurrency: settings.whisperPoolSize, lockMs: settings.jobLockMs }, "job worker ready");

  let closing: Promise<void> | undefined;
  return {
    worker,
    get running() {
      return running;
    },
    close(drainTimeoutMs = 120_000) {
      closing ??= (async () => {
        const timer = setTimeout(() => {
          handingBack = true;
          worker.cancelAllJobs(SHUTDOWN);
        }, drainTimeoutMs);
        timer.unref();
        await worker.close();
        clearTimeout(timer);
        await subscriber.quit().catch(() => subscriber.disconnect());
        await redis.quit().catch(() => redis.disconnect());
      })();
      return closing;
    },
  };
}
