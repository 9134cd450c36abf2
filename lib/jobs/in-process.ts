// Jobs in the server's own process, on its model pool (no REDIS_URL). Without JOB_STORAGE they
// live in memory and a restart loses the unfinished ones. With JOB_STORAGE=dir:/path each job is a
// JSON file and its audio a file beside it, so a restart queues the unfinished jobs again.
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { FastifyBaseLogger } from "fastify";
import { AbortError } from "../errors.js";
import type { TranscriptionService } from "../server/service.js";
import { checkUrl } from "./fetch-url.js";
import { failureMessage, isPermanentFailure, runJob } from "./runner.js";
import { DirAudioStore, MemoryAudioStore } from "./storage.js";
import type { AudioStore } from "./storage.js";
import { CANCELLED_MESSAGE, isFinal } from "./types.js";
import type { JobInfo, JobPage, JobQueue, JobSpec, JobSubmission } from "./types.js";
import { deliverWebhook } from "./webhook.js";

interface Record extends JobInfo {
  spec: JobSpec;
}

const SWEEP_INTERVAL_MS = 60_000;
/** Retry delay: 1 s, 2 s, 4 s, ... at most a minute. */
const backoffMs = (attempt: number) => Math.min(60_000, 1000 * 2 ** Math.max(0, attempt - 1));

export class InProcessJobQueue implements JobQueue {
  readonly kind = "in-process" as const;
  readonly #service: TranscriptionService;
  readonly #log: FastifyBaseLogger;
  readonly #store: AudioStore;
  readonly #jobsDir: string | undefined;
  readonly #jobs = new Map<string, Record>();
  readonly #waiting: string[] = [];
  readonly #running = new Map<string, { controller: AbortController; done: Promise<void>; cancelled: boolean }>();
  readonly #finalWaiters = new Map<string, Set<() => void>>();
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #sweeper: NodeJS.Timeout;
  #closing = false;

  private constructor(service: TranscriptionService, log: FastifyBaseLogger) {
    this.#service = service;
    this.#log = log;
    const storage = service.settings.jobStorage;
    if (storage?.kind === "dir") {
      this.#store = new DirAudioStore(storage.path);
      this.#jobsDir = path.join(path.resolve(storage.path), "jobs");
    } else {
      this.#store = new MemoryAudioStore();
    }
    this.#sweeper = setInterval(() => void this.#sweep(), SWEEP_INTERVAL_MS);
    this.#sweeper.unref();
  }

  /** Opens the queue; with JOB_STORAGE=dir: the jobs found there are loaded and the unfinished ones queued again. */
  static async open(service: TranscriptionService, log: FastifyBaseLogger): Promise<InProcessJobQueue> {
    const queue = new InProcessJobQueue(service, log);
    await queue.#restore();
    queue.#pump();
    return queue;
  }

  /** True when jobs survive a restart (JOB_STORAGE=dir:). */
  get durable(): boolean {
    return this.#jobsDir !== undefined;
  }

  async submit(submission: JobSubmission): Promise<string> {
    if (this.#closing) throw new AbortError("The job queue is closing");
    const id = randomUUID();
    let source: JobSpec["source"];
    if (submission.audio) {
      const ref = await this.#store.put(id, submission.audio.data);
      source = { kind: "audio", ref, filename: submission.audio.filename, bytes: submission.audio.data.length };
    } else {
      source = { kind: "url", url: checkUrl(submission.url ?? "", this.#service.settings.allowPrivateUrls).href };
    }
    const spec: JobSpec = { source, options: submission.options, format: submission.format, ...(submission.webhookUrl ? { webhookUrl: submission.webhookUrl } : {}) };
    const record: Record = { id, state: "waiting", progress: 0, createdAt: Date.now(), attempts: 0, format: submission.format, spec };
    this.#jobs.set(id, record);
    await this.#persist(record);
    this.#waiting.push(id);
    this.#pump();
    return id;
  }

  async get(id: string): Promise<JobInfo | undefined> {
    const record = this.#jobs.get(id);
    return record && view(record);
  }

  async cancel(id: string): Promise<JobInfo | undefined> {
    const record = this.#jobs.get(id);
    if (!record) return undefined;
    if (isFinal(record.state)) return view(record);
    const running = this.#running.get(id);
    if (running) {
      running.cancelled = true;
      running.controller.abort(new AbortError(CANCELLED_MESSAGE));
      await running.done;
    } else {
      const at = this.#waiting.indexOf(id);
      if (at >= 0) this.#waiting.splice(at, 1);
      await this.#finish(record, { state: "cancelled", error: CANCELLED_MESSAGE });
    }
    return view(record);
  }

  async remove(id: string): Promise<boolean> {
    const record = this.#jobs.get(id);
    if (!record || !isFinal(record.state)) return false;
    await this.#forget(record);
    return true;
  }

  async list(offset: number, limit: number): Promise<JobPage> {
    const all = [...this.#jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
    return { total: all.length, jobs: all.slice(offset, offset + limit).map(view) };
  }

  async waitUntilFinal(id: string, signal?: AbortSignal): Promise<JobInfo | undefined> {
    for (;;) {
      const record = this.#jobs.get(id);
      if (!record || isFinal(record.state)) return record && view(record);
      if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
      await new Promise<void>((resolve) => {
        const waiters = this.#finalWaiters.get(id) ?? new Set();
        this.#finalWaiters.set(id, waiters);
        const wake = () => {
          signal?.removeEventListener("abort", wake);
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
        signal?.addEventListener("abort", wake, { once: true });
      });
    }
  }

  /**
   * Stops taking jobs. Durable: running jobs are aborted and stay queued on disk for the next start
   * (handed back). In memory: running jobs finish (waiting ones are lost, as documented).
   */
  async close(): Promise<void> {
    this.#closing = true;
    clearInterval(this.#sweeper);
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.durable) for (const running of this.#running.values()) running.controller.abort(new AbortError("shutdown"));
    await Promise.all([...this.#running.values()].map((r) => r.done));
  }

  #pump(): void {
    while (!this.#closing && this.#running.size < this.#service.settings.whisperPoolSize && this.#waiting.length > 0) {
      const record = this.#jobs.get(this.#waiting.shift()!);
      if (record && record.state === "waiting") this.#start(record);
    }
  }

  #start(record: Record): void {
    const controller = new AbortController();
    const entry = { controller, cancelled: false, done: Promise.resolve() };
    this.#running.set(record.id, entry);
    record.state = "active";
    record.startedAt = Date.now();
    record.attempts++;
    entry.done = (async () => {
      try {
        await this.#persist(record);
        const result = await runJob(this.#service, this.#store, record.spec, {
          signal: controller.signal,
          onProgress: (percent) => (record.progress = Math.max(record.progress, Math.min(100, Math.round(percent)))),
        });
        await this.#finish(record, { state: "completed", result });
      } catch (error) {
        await this.#failed(record, error, entry.cancelled);
      } finally {
        this.#running.delete(record.id);
        this.#pump();
      }
    })();
  }

  async #failed(record: Record, error: unknown, cancelled: boolean): Promise<void> {
    const maxUpload = this.#service.maxUploadBytes;
    if (cancelled) return this.#finish(record, { state: "cancelled", error: CANCELLED_MESSAGE });
    if (this.#closing) {
      // Handed back: queued again at the next start.
      record.state = "waiting";
      record.progress = 0;
      await this.#persist(record);
      return;
    }
    const message = failureMessage(error, maxUpload);
    if (isPermanentFailure(error, maxUpload) || record.attempts >= this.#service.settings.jobAttempts) {
      if (!isPermanentFailure(error, maxUpload)) this.#log.error({ err: error, job: record.id }, "job failed");
      return this.#finish(record, { state: "failed", error: message });
    }
    const delay = backoffMs(record.attempts);
    this.#log.warn({ err: error, job: record.id, attempt: record.attempts, retryInMs: delay }, "job failed; retrying");
    record.state = "waiting";
    record.progress = 0;
    record.error = message;
    await this.#persist(record);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#waiting.push(record.id);
      this.#pump();
    }, delay);
    this.#timers.add(timer);
  }

  async #finish(record: Record, outcome: Pick<JobInfo, "state" | "error" | "result">): Promise<void> {
    record.state = outcome.state;
    record.finishedAt = Date.now();
    if (outcome.state === "completed") {
      record.progress = 100;
      delete record.error;
      record.result = outcome.result!;
    } else if (outcome.error !== undefined) {
      record.error = outcome.error;
    }
    if (record.spec.source.kind === "audio") await this.#store.delete(record.spec.source.ref).catch(() => {});
    await this.#persist(record);
    for (const wake of this.#finalWaiters.get(record.id) ?? []) wake();
    this.#finalWaiters.delete(record.id);
    const { webhookUrl } = record.spec;
    if (webhookUrl) {
      const settings = this.#service.settings;
      void deliverWebhook(webhookUrl, view(record), {
        secret: settings.jobWebhookSecret,
        allowPrivate: settings.allowPrivateUrls,
        onError: (error, attempt) => this.#log.warn({ err: error, job: record.id, attempt }, "webhook delivery failed"),
      });
    }
  }

  async #forget(record: Record): Promise<void> {
    this.#jobs.delete(record.id);
    if (this.#jobsDir) await fs.rm(path.join(this.#jobsDir, `${record.id}.json`), { force: true });
  }

  async #sweep(): Promise<void> {
    const cutoff = Date.now() - this.#service.settings.jobResultTtlS * 1000;
    for (const record of [...this.#jobs.values()]) if (isFinal(record.state) && (record.finishedAt ?? 0) < cutoff) await this.#forget(record).catch(() => {});
  }

  async #persist(record: Record): Promise<void> {
    if (!this.#jobsDir) return;
    const file = path.join(this.#jobsDir, `${record.id}.json`);
    const temp = `${file}.${randomUUID()}.tmp`;
    await fs.mkdir(this.#jobsDir, { recursive: true });
    await fs.writeFile(temp, JSON.stringify(record));
    await fs.rename(temp, file);
  }

  async #restore(): Promise<void> {
    if (!this.#jobsDir) return;
    await fs.mkdir(this.#jobsDir, { recursive: true });
    const found: Record[] = [];
    for (const name of await fs.readdir(this.#jobsDir)) {
      if (!/^[\w-]+\.json$/.test(name)) continue;
      try {
        found.push(JSON.parse(await fs.readFile(path.join(this.#jobsDir, name), "utf8")) as Record);
      } catch (error) {
        this.#log.warn({ err: error, file: name }, "skipping an unreadable job file");
      }
    }
    found.sort((a, b) => a.createdAt - b.createdAt);
    for (const record of found) {
      this.#jobs.set(record.id, record);
      if (!isFinal(record.state)) {
        record.state = "waiting";
        record.progress = 0;
        this.#waiting.push(record.id);
      }
    }
    if (this.#waiting.length > 0) this.#log.info({ jobs: this.#waiting.length }, "queued the unfinished jobs again");
    await this.#sweep();
  }
}

function view(record: Record): JobInfo {
  const { spec: _spec, ...info } = record;
  return { ...info };
}
