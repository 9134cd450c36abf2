// `tingwu-whisper worker`: a BullMQ job worker on its own model (REDIS_URL). SIGTERM/SIGINT: stop
// taking jobs, let running ones finish (--drain-timeout), hand back the rest.
import { parseArgs } from "node:util";
import pino from "pino";
import { ModelManager } from "../backends/index.js";
import { loadSettings } from "../config.js";
import { startJobWorker } from "../jobs/worker.js";
import { createMetrics } from "../server/metrics.js";
import { InferenceQueue } from "../server/queue.js";
import { TranscriptionService } from "../server/service.js";
import { UsageError } from "./common.js";

export const WORKER_USAGE = `Usage: tingwu-whisper worker [--model NAME|FILE] [--language CODE] [--drain-timeout SECONDS]

Runs transcription jobs from BullMQ (REDIS_URL) on this process's own model: DEVICE and
WHISPER_GPU_DEVICE pick its GPU, WHISPER_POOL_SIZE the jobs it runs at once. Results are kept for
JOB_RESULT_TTL_S seconds. Job audio larger than JOB_REDIS_AUDIO_MAX_MB is read from JOB_STORAGE=dir:
(the same shared directory as the API's). See docs/SCALE.md.

On SIGTERM/SIGINT the worker takes no new job, lets running ones finish for up to --drain-timeout
seconds (default 120), hands any still running back to the queue, and exits 0. A worker killed
outright loses its lock; another worker runs the job again after JOB_LOCK_MS.`;

export async function worker(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { model: { type: "string" }, language: { type: "string" }, "drain-timeout": { type: "string" } },
    strict: true,
    allowPositionals: false,
  });
  const env = { ...process.env };
  if (values.model !== undefined) env.WHISPER_MODEL = values.model;
  if (values.language !== undefined) env.WHISPER_LANGUAGE = values.language;
  const drain = values["drain-timeout"] === undefined ? 120 : Number(values["drain-timeout"]);
  if (!Number.isFinite(drain) || drain < 0) throw new UsageError(`Expected a number of seconds (0 or more) for --drain-timeout but received ${JSON.stringify(values["drain-timeout"])}`);
  const settings = loadSettings(env);
  if (!settings.redisUrl) throw new UsageError("the worker needs REDIS_URL (the Redis that the API's jobs go to)");

  const log = pino({ level: settings.logLevel });
  const manager = new ModelManager(settings);
  const queue = new InferenceQueue(settings.whisperPoolSize, 0);
  const metrics = createMetrics({ queueWaiting: () => queue.waiting, queueRunning: () => queue.running, queueCapacity: () => queue.capacity, modelState: () => manager.state });
  const service = new TranscriptionService({ settings, manager, queue, metrics });
  log.info({ model: settings.whisperModel, device: settings.device, gpu: settings.whisperGpuDevice, pool: settings.whisperPoolSize }, "loading the model");
  const jobWorker = await startJobWorker(settings, { service, log });

  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      log.warn({ signal }, "second signal: exiting now (running jobs are recovered by another worker)");
      process.exit(1);
    }
    stopping = true;
    log.info({ signal, running: jobWorker.running, drainTimeoutS: drain }, "stopping: finishing or handing back running jobs");
    jobWorker
      .close(drain * 1000)
      .then(() => manager.unload())
      .then(
        () => {
          log.info("worker stopped");
          process.exit(0);
        },
        (error: unknown) => {
          log.error({ err: error }, "worker shutdown failed");
          process.exit(1);
        },
      );
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
