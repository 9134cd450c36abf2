// The job queue of a server: BullMQ when REDIS_URL is set, else in this process.
import type { FastifyBaseLogger } from "fastify";
import type { TranscriptionService } from "../server/service.js";
import { BullJobQueue } from "./bullmq.js";
import { InProcessJobQueue } from "./in-process.js";
import { checkStorageSupported } from "./storage.js";
import type { JobQueue } from "./types.js";

export { BullJobQueue, InProcessJobQueue };
export { startJobWorker } from "./worker.js";
export type { JobWorker } from "./worker.js";
export * from "./types.js";

/**
 * The queue for `service`'s settings. Without inference (an API-only front) jobs need REDIS_URL:
 * there is no model here to run them on.
 */
export async function createJobQueue(service: TranscriptionService, log: FastifyBaseLogger): Promise<JobQueue> {
  const { settings } = service;
  checkStorageSupported(settings.jobStorage);
  if (settings.redisUrl) return new BullJobQueue(settings);
  if (!service.inference) throw new RangeError("A server without inference (--no-inference) needs REDIS_URL: its jobs run on workers (tingwu-whisper worker)");
  return InProcessJobQueue.open(service, log);
}
