// Where job audio waits for its worker. A reference names its store (`mem:`, `dir:`, `redis:`), so
// any process can read what another stored, and a `dir:` reference holds only the file name
// (every machine may mount the shared directory at its own path).
import { randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import type { Redis } from "ioredis";
import type { JobStorageSpec } from "../config.js";
import { HttpError } from "../server/errors.js";

/** Stores job audio. */
export interface AudioStore {
  /** Keeps `data` for job `id`; resolves with a reference. */
  put(id: string, data: Buffer): Promise<string>;
  /** The bytes of a reference; throws when they are gone. */
  get(ref: string): Promise<Buffer>;
  /** Frees a reference (idempotent). */
  delete(ref: string): Promise<void>;
}

/** Audio went missing (expired, deleted, or a store this process can't reach). */
export class AudioMissingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AudioMissingError";
  }
}

/** Throws the one clear error for a storage kind that is not implemented. */
export function checkStorageSupported(spec: JobStorageSpec | undefined): void {
  if (spec?.kind === "s3") {
    throw new RangeError(`JOB_STORAGE=s3://${spec.bucket}/${spec.prefix} is not supported yet; use JOB_STORAGE=dir:/path on a directory every worker mounts (NFS, EFS, a shared volume)`);
  }
}

/** A file per job under `<root>/audio/`, written to a temporary name then renamed (a reader never sees half a file). */
export class DirAudioStore implements AudioStore {
  readonly root: string;
  constructor(root: string) {
    this.root = path.resolve(root);
  }

  #file(name: string): string {
    if (!/^[\w.-]+$/.test(name)) throw new AudioMissingError(`Invalid audio reference dir:${name}`);
    return path.join(this.root, "audio", name);
  }

  async put(id: string, data: Buffer): Promise<string> {
    const name = `${id}.bin`;
    const file = this.#file(name);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const temp = `${file}.${randomUUID()}.tmp`;
    await fs.writeFile(temp, data);
    await fs.rename(temp, file);
    return `dir:${name}`;
  }

  async get(ref: string): Promise<Buffer> {
    try {
      return await fs.readFile(this.#file(ref.slice(4)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new AudioMissingError(`The job's audio (${ref}) is gone from ${this.root}`);
      throw error;
    }
  }

  async delete(ref: string): Promise<void> {
    await fs.rm(this.#file(ref.slice(4)), { force: true });
  }
}

/** Audio in this process's memory (in-process jobs without JOB_STORAGE: lost on restart). */
export class MemoryAudioStore implements AudioStore {
  readonly #data = new Map<string, Buffer>();
  async put(id: string, data: Buffer): Promise<string> {
    this.#data.set(id, data);
    return `mem:${id}`;
  }
  async get(ref: string): Promise<Buffer> {
    const data = this.#data.get(ref.slice(4));
    if (!data) throw new AudioMissingError(`The job's audio (${ref}) is gone`);
    return data;
  }
  async delete(ref: string): Promise<void> {
    this.#data.delete(ref.slice(4));
  }
}

/**
 * BullMQ's store: small files in Redis (persisted with it, expiring after `ttlS`), larger ones in
 * the shared directory when there is one, else 413 naming the settings.
 */
export class RedisAudioStore implements AudioStore {
  readonly #redis: Redis;
  readonly #prefix: string;
  readonly #maxBytes: number;
  readonly #ttlS: number;
  readonly #dir: DirAudioStore | undefined;

  constructor(options: { redis: Redis; prefix: string; maxRedisBytes: number; ttlS: number; dir?: DirAudioStore }) {
    this.#redis = options.redis;
    this.#prefix = options.prefix;
    this.#maxBytes = options.maxRedisBytes;
    this.#ttlS = options.ttlS;
    this.#dir = options.dir;
  }

  async put(id: string, data: Buffer): Promise<string> {
    if (data.length > this.#maxBytes) {
      if (this.#dir) return this.#dir.put(id, data);
      const mb = (bytes: number) => `${Number((bytes / 1024 / 1024).toFixed(2))} MB`;
      throw new HttpError(413, `The audio (${mb(data.length)}) is larger than the ${mb(this.#maxBytes)} kept in Redis (JOB_REDIS_AUDIO_MAX_MB); the server needs JOB_STORAGE=dir:/shared/path for larger files`, {
        code: "file_too_large",
        param: "file",
      });
    }
    const key = `${this.#prefix}:audio:${id}`;
    await this.#redis.set(key, data, "EX", this.#ttlS);
    return `redis:${key}`;
  }

  async get(ref: string): Promise<Buffer> {
    if (ref.startsWith("dir:")) {
      if (!this.#dir) throw new AudioMissingError(`The job's audio is in the shared directory (${ref}) but this worker has no JOB_STORAGE=dir:`);
      return this.#dir.get(ref);
    }
    const data = await this.#redis.getBuffer(ref.slice(6));
    if (!data) throw new AudioMissingError(`The job's audio (${ref}) is gone from Redis (expired?)`);
    return data;
  }

  async delete(ref: string): Promise<void> {
    if (ref.startsWith("dir:")) await this.#dir?.delete(ref);
    else await this.#redis.del(ref.slice(6));
  }
}
