// Builds the HTTP app from route plugins: TingWu, whisper-asr-webservice, OpenAI, and the
// operator routes. No listening and no process handling here (that is server.ts), so tests can
// build an app, inject requests or listen on 127.0.0.1, and close it.
import { randomUUID } from "node:crypto";
import cors from "@fastify/cors";
import multipart from "@fastify/multipart";
import swagger from "@fastify/swagger";
import swaggerUi from "@fastify/swagger-ui";
import Fastify from "fastify";
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest, FastifyServerOptions } from "fastify";
import { jsonSchemaTransform, serializerCompiler, validatorCompiler } from "fastify-type-provider-zod";
import type { ZodTypeProvider } from "fastify-type-provider-zod";
import { ModelManager } from "../backends/index.js";
import { createJobQueue } from "../jobs/index.js";
import type { JobQueue } from "../jobs/types.js";
import { LOG_LEVELS } from "../config.js";
import type { Settings } from "../config.js";
import { createErrorHandler, dialectOfUrl, errorBody, HttpError, uploadTooLarge } from "./errors.js";
import { BODY_LIMITS } from "../limits.js";
import { KEY_HEADERS, registerAuth } from "./auth.js";
import { createMetrics } from "./metrics.js";
import { registerAdmission, registerBodyLimits } from "./limits.js";
import { bufferFilesUpTo, flattenMultipartBody } from "./multipart.js";
import { InferenceQueue } from "./queue.js";
import { asrWebserviceRoutes } from "./routes/asr-webservice.js";
import { jobsRoutes } from "./routes/jobs.js";
import { openaiRoutes } from "./routes/openai.js";
import { realtimeRoutes } from "./realtime/route.js";
import { systemRoutes } from "./routes/system.js";
import { tingwuRoutes } from "./routes/tingwu.js";
import { tingwuAsyncRoutes } from "./routes/tingwu-async.js";
import { tingwuConfigRoutes } from "./routes/tingwu/config.js";
import { tingwuHotwordRoutes } from "./routes/tingwu/hotwords.js";
import { tingwuSystemRoutes } from "./routes/tingwu/system.js";
import { RuntimeConfig } from "./runtime-config.js";
import { HotwordStore } from "../tingwu/hotword-store.js";
import { TranscriptionService } from "./service.js";
import { DESCRIPTION, VERSION } from "../version.js";
import type { InferenceTimeout } from "./service.js";


declare module "fastify" {
  interface FastifyInstance {
    /** The transcription service (model manager, queue, metrics) behind the routes. */
    tingwu: TranscriptionService;
    /** The job queue behind /api/v1/jobs and TingWu's async routes. */
    jobs: JobQueue;
  }
}

/** HTTP timeouts (Node's http server). */
export interface HttpTimeouts {
  /** Time allowed to receive a whole request, upload included. Default `600000` (10 min). */
  requestTimeout?: number;
  /** How long an idle keep-alive connection stays open; above common proxies' 60 s. Default `72000`. */
  keepAliveTimeout?: number;
}

export interface BuildAppOptions {
  settings: Settings;
  /** The model manager. Default: a new one for `settings` (nothing is loaded until asked). */
  manager?: ModelManager;
  /** A pino (or pino-compatible) logger, or pino options (e.g. `{ level, stream }`). Default: pino at `settings.logLevel` on stdout. */
  logger?: FastifyBaseLogger | LoggerOptions;
  /** Per-request inference time limit. Default 60 s + 5 s per second of audio. */
  inferenceTimeout?: InferenceTimeout;
  http?: HttpTimeouts;
  /** Run transcriptions here. `false` makes an API-only front (`serve --no-inference`): jobs go to workers (needs REDIS_URL), sync routes answer 503. Default `true`. */
  inference?: boolean;
  /** The job queue. Default: BullMQ when REDIS_URL is set, else in-process; closed with the app. */
  jobs?: JobQueue;
}

/** Fastify's pino options. */
export type LoggerOptions = Exclude<FastifyServerOptions["logger"], boolean | undefined>;

const REQUEST_ID = /^[\w.:-]{1,128}$/;

/** Form limits besides the file size. Batch uploads are the largest forms. */
const FORM_LIMITS = { files: 64, fields: 64, parts: 256, fieldSize: 1024 * 1024 };

function isLoggerInstance(logger: object): logger is FastifyBaseLogger {
  return typeof (logger as FastifyBaseLogger).child === "function" && typeof (logger as FastifyBaseLogger).info === "function";
}

/**
 * pino at `level`, API keys redacted; human-readable lines (pino-pretty) when stdout is a terminal,
 * JSON lines otherwise (containers, log shippers).
 */
export function defaultLoggerOptions(level: string, tty: boolean = process.stdout.isTTY === true): LoggerOptions {
  return {
    level,
    redact: { paths: KEY_HEADERS.map((h) => `req.headers["${h}"]`), censor: "[redacted]" },
    ...(tty ? { transport: { target: "pino-pretty", options: { translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } } } : {}),
  };
}

/** Builds the app (routes registered, not listening). */
export async function buildApp(options: BuildAppOptions): Promise<FastifyInstance> {
  const { settings } = options;
  const manager = options.manager ?? new ModelManager(settings);
  const queue = new InferenceQueue(settings.whisperPoolSize, settings.whisperQueueSize);
  const metrics = createMetrics({
    queueWaiting: () => queue.waiting,
    queueRunning: () => queue.running,
    queueCapacity: () => queue.capacity,
    modelState: () => manager.state,
  });
  const service = new TranscriptionService({
    settings,
    manager,
    queue,
    metrics,
    inference: options.inference ?? true,
    ...(options.inferenceTimeout ? { timeout: options.inferenceTimeout } : {}),
  });
  const maxUploadBytes = service.maxUploadBytes;

  const fastifyOptions: FastifyServerOptions = {
    // Only fastify's JSON/text parsers use this: no route takes JSON. Uploads have their own limits.
    bodyLimit: BODY_LIMITS.nonMultipart,
    // genReqId reads X-Request-Id itself so a client's id is used only when it is sane.
    requestIdHeader: false,
    genReqId: (req) => {
      const given = req.headers["x-request-id"];
      return typeof given === "string" && REQUEST_ID.test(given) ? given : randomUUID();
    },
    requestTimeout: options.http?.requestTimeout ?? 600_000,
    keepAliveTimeout: options.http?.keepAliveTimeout ?? 72_000,
    // During shutdown: new requests on kept-alive connections get 503, idle connections close.
    return503OnClosing: true,
    forceCloseConnections: "idle",
  };
  const errorHandler = createErrorHandler(maxUploadBytes);
  // Errors fastify raises before routing (a URL that doesn't decode) get the same shapes.
  fastifyOptions.frameworkErrors = (error, request, reply) => errorHandler(error, request, reply);
  const logger = options.logger ?? defaultLoggerOptions(settings.logLevel);
  const app = isLoggerInstance(logger) ? Fastify({ ...fastifyOptions, loggerInstance: logger }) : Fastify({ ...fastifyOptions, logger });

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.decorate("tingwu", service);
  const jobs = options.jobs ?? (await createJobQueue(service, app.log));
  app.decorate("jobs", jobs);
  app.addHook("onClose", async () => jobs.close());

  await app.register(cors, {
    // "*" (the default) lets any page call the API, TingWu's frontend included; never with
    // credentials, so no origin is reflected with Access-Control-Allow-Credentials.
    origin: settings.corsOrigins === "*" ? "*" : [...settings.corsOrigins],
    credentials: false,
    methods: ["GET", "HEAD", "POST", "DELETE", "OPTIONS"],
    exposedHeaders: ["Content-Disposition", "Retry-After", "X-Request-Id", "Asr-Engine"],
    maxAge: 600,
  });
  registerAuth(app, settings.apiKeys);
  registerBodyLimits(app, maxUploadBytes);
  registerAdmission(app, service);
  await app.register(multipart, {
    attachFieldsToBody: true,
    throwFileSizeLimit: true,
    limits: { ...FORM_LIMITS, fileSize: maxUploadBytes },
    onFile: bufferFilesUpTo(maxUploadBytes, () => uploadTooLarge(maxUploadBytes)),
  });
  app.addHook("preValidation", flattenMultipartBody);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "tingwu-whisper",
        version: VERSION,
        description: `${DESCRIPTION}. Three dialects: TingWu (/api/v1, /health, /metrics, /config), whisper-asr-webservice (/asr, /detect-language) and OpenAI (/v1).`,
      },
      tags: [
        { name: "tingwu", description: "TingWu's API; errors are {\"detail\": \"...\"}" },
        { name: "whisper-asr-webservice", description: "whisper-asr-webservice's API; errors are {\"detail\": \"...\"}" },
        { name: "openai", description: "OpenAI's audio API; errors are {\"error\": {message, type, param, code}}" },
        { name: "jobs", description: "Durable transcription jobs (in-process, or BullMQ with REDIS_URL); errors are {\"detail\": \"...\"}" },
        { name: "system", description: "Operations" },
      ],
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: "/docs" });

  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler((request, reply) => {
    const error = new HttpError(404, `Unknown request URL: ${request.method} ${request.url.split("?")[0]}`, { code: "unknown_url" });
    const dialect = dialectOfUrl(request.url);
    void reply.code(404).send(dialect === "openai" ? errorBody(dialect, error) : { detail: "Not Found" });
  });

  // Connections of requests that were in flight when close() began must not linger as keep-alive
  // (server.close() waits for them): answer with Connection: close from then on.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply, payload) => {
    if (closing) void reply.header("connection", "close");
    return payload;
  });

  const record = (request: FastifyRequest, status: number, seconds: number) => {
    const route = request.routeOptions.url ?? "unmatched";
    metrics.requests.inc({ method: request.method, route, status: String(status) });
    metrics.requestDuration.observe(seconds, { method: request.method, route });
  };
  app.addHook("onResponse", async (request, reply) => record(request, reply.statusCode, reply.elapsedTime / 1000));
  app.addHook("onRequest", async (request, reply) => {
    void reply.header("x-request-id", request.id);
    // A client that leaves before its response is done never reaches onResponse: count it as 499.
    reply.raw.once("close", () => {
      if (!reply.raw.writableFinished) record(request, 499, reply.elapsedTime / 1000);
    });
  });

  // State kept in DATA_DIR: hotword lists and the runtime-changeable settings.
  const hotwords = new HotwordStore(settings.dataDir);
  await hotwords.loadAll();
  // log_level starts at the logger's own level (a logger passed in may differ from LOG_LEVEL).
  const startLevel = LOG_LEVELS.find((level) => level === app.log.level) ?? settings.logLevel;
  const runtime = new RuntimeConfig(settings, {
    logLevel: startLevel,
    onChange: (values) => {
      if (app.log.level !== values.log_level) app.log.level = values.log_level;
    },
  });
  await runtime.reload((message) => app.log.warn(message));

  const startedAt = Date.now();
  const zod = app.withTypeProvider<ZodTypeProvider>();
  await zod.register(tingwuRoutes, { service, version: VERSION, hotwords, runtime });
  await zod.register(tingwuAsyncRoutes, { service, jobs, hotwords, runtime });
  await zod.register(jobsRoutes, { service, jobs });
  await zod.register(tingwuHotwordRoutes, { hotwords });
  await zod.register(tingwuConfigRoutes, { service, runtime, hotwords, version: VERSION });
  await zod.register(tingwuSystemRoutes, { service, version: VERSION, startedAt });
  await zod.register(asrWebserviceRoutes, { service });
  await zod.register(openaiRoutes, { service, startedAt });
  await zod.register(systemRoutes, { service });
  await app.register(realtimeRoutes, { service });
  return app;
}
