// The process around the app: listen, load the model in the background, and on SIGTERM/SIGINT
// stop accepting, let every admitted request finish, free the model and exit.
import type { FastifyInstance } from "fastify";
import { ModelManager } from "../backends/index.js";
import type { Settings } from "../config.js";
import { startJobWorker } from "../jobs/worker.js";
import type { JobWorker } from "../jobs/worker.js";
import { buildApp } from "./app.js";
import type { BuildAppOptions, HttpTimeouts } from "./app.js";
import type { InferenceTimeout } from "./service.js";

export interface StartServerOptions {
  /** Install SIGTERM/SIGINT handlers that drain and then exit the process. Default `true`. */
  handleSignals?: boolean;
  /** Longest wait for in-flight requests on shutdown before exiting with code 1. Default `120000`. */
  drainTimeoutMs?: number;
  /** Default: a new ModelManager for `settings`. */
  manager?: ModelManager;
  /** Default: pino at `settings.logLevel` on stdout. */
  logger?: BuildAppOptions["logger"];
  /** Default: 60 s + 5 s per second of audio. */
  inferenceTimeout?: InferenceTimeout;
  http?: HttpTimeouts;
  /** `false`: an API-only front (no model; jobs go to workers through REDIS_URL). Default `true`. */
  inference?: boolean;
  /** With REDIS_URL and inference: also run BullMQ jobs on this server's model pool (`serve --worker`). Default `false`. */
  jobWorker?: boolean;
}

export interface RunningServer {
  app: FastifyInstance;
  manager: ModelManager;
  /** `http://host:port` it listens on. */
  url: string;
  /** Settles when the model is loaded or failed to (never rejects). */
  modelReady: Promise<void>;
  /** Graceful shutdown: stop listening, finish in-flight requests, free the model. Idempotent. */
  close(): Promise<void>;
}

/** Starts listening at once; the model loads in the background (routes answer 503 until then). */
export async function startServer(settings: Settings, options: StartServerOptions = {}): Promise<RunningServer> {
  const manager = options.manager ?? new ModelManager(settings);
  const app = await buildApp({
    settings,
    manager,
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.inferenceTimeout ? { inferenceTimeout: options.inferenceTimeout } : {}),
    ...(options.http ? { http: options.http } : {}),
    ...(options.inference === false ? { inference: false } : {}),
  });
  const address = await app.listen({ port: settings.port, host: settings.host });

  const loadStarted = performance.now();
  app.log.info({ jobs: app.jobs.kind }, "job queue ready");
  let modelReady: Promise<void> = Promise.resolve();
  if (options.inference === false) {
    app.log.info("API-only front (--no-inference): no model here; jobs run on workers");
  } else {
    app.log.info({ model: settings.whisperModel, device: settings.device, pool: settings.whisperPoolSize, queue: settings.whisperQueueSize }, "loading the model in the background");
    modelReady = manager
      .loadWithRetries((error, delayMs, retry) =>
        app.log.warn({ reason: manager.publicError ?? (error as Error)?.message, retry, of: settings.whisperLoadRetries, retryInMs: delayMs }, "the model failed to load; retrying"),
      )
      .then(() => {
        if (manager.state === "ready") app.log.info({ ms: Math.round(performance.now() - loadStarted), info: manager.backendInstance.getInfo() }, "model ready");
        else if (manager.state === "failed") app.log.error({ err: manager.error, attempts: manager.retry.attempts }, "the model failed to load and no retries are left; transcription routes answer 503 and /ready says why");
      });
  }

  let jobWorker: Promise<JobWorker | undefined> = Promise.resolve(undefined);
  if (options.jobWorker && options.inference !== false) {
    jobWorker = startJobWorker(settings, { service: app.tingwu, log: app.log }).catch((error: unknown) => {
      app.log.error({ err: error }, "the job worker failed to start");
      return undefined;
    });
  }

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      await (await jobWorker)?.close();
      const queue = app.tingwu.queue;
      app.log.info({ running: queue.running, waiting: queue.waiting }, "shutting down: refusing new requests, draining in-flight ones");
      await app.close();
      await queue.idle();
      await manager.unload();
      app.log.info("shutdown complete");
    })());

  if (options.handleSignals ?? true) {
    const drainTimeoutMs = options.drainTimeoutMs ?? 120_000;
    const onSignal = (signal: NodeJS.Signals) => {
      if (closing) {
        app.log.warn({ signal }, "second signal during shutdown: exiting now");
        process.exit(1);
      }
      app.log.info({ signal }, "signal received");
      const timer = setTimeout(() => {
        app.log.error({ drainTimeoutMs }, "in-flight requests did not finish in time; exiting");
        process.exit(1);
      }, drainTimeoutMs);
      timer.unref();
      close().then(
        () => {
          clearTimeout(timer);
          process.exit(0);
        },
        (error: unknown) => {
          app.log.error({ err: error }, "shutdown failed");
          process.exit(1);
        },
      );
    };
    process.on("SIGTERM", onSignal);
    process.on("SIGINT", onSignal);
  }

  return { app, manager, url: address, modelReady, close };
}
