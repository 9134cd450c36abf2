// One job, wherever it runs (in the server's process or on a worker): get the audio (stored or
// fetched), decode it, transcribe it in the model pool's queue with progress, and say whether a
// failure is worth retrying.
import { toHttpError } from "../server/errors.js";
import type { TranscriptionService } from "../server/service.js";
import { fetchAudio } from "./fetch-url.js";
import { AudioMissingError } from "./storage.js";
import type { AudioStore } from "./storage.js";
import type { JobResult, JobSpec } from "./types.js";

export interface RunJobOptions {
  signal: AbortSignal;
  /** Percent done, 0 to 100. */
  onProgress?: (percent: number) => void;
}

/** Runs `spec` on `service`'s model. Rejects with the cause of failure (see {@link isPermanentFailure}). */
export async function runJob(service: TranscriptionService, store: AudioStore, spec: JobSpec, options: RunJobOptions): Promise<JobResult> {
  const { signal } = options;
  const source = spec.source;
  const data =
    source.kind === "audio"
      ? await store.get(source.ref)
      : await fetchAudio(source.url, { maxBytes: service.maxUploadBytes, allowPrivate: service.settings.allowPrivateUrls, signal });
  const filename = source.kind === "audio" ? source.filename : (new URL(source.url).pathname.split("/").pop() ?? "");
  // A worker that is still loading its model waits here rather than failing the job.
  await service.manager.getBackend();
  const audio = await service.decode({ kind: "file", filename, mimetype: "application/octet-stream", data }, { signal, param: source.kind === "url" ? "url" : "file" });
  const result = await service.transcribe(service.queue.backgroundTicket(), audio, { ...spec.options, ...(options.onProgress ? { onProgress: options.onProgress } : {}) }, signal);
  return {
    text: result.text,
    language: result.language,
    durationMs: audio.durationMs,
    sentence_info: result.sentence_info,
    segments: result.whisper.segments,
    temperature: spec.options.temperature ?? 0,
  };
}

/** Bad input (undecodable or too short audio, a refused URL, lost audio) fails at once; everything else may be retried. */
export function isPermanentFailure(error: unknown, maxUploadBytes: number): boolean {
  if (error instanceof AudioMissingError) return true;
  return toHttpError(error, maxUploadBytes).statusCode < 500;
}

/** The message a failed job reports, worded as the routes would; internals stay in the log ("Internal Server Error"). */
export function failureMessage(error: unknown, maxUploadBytes: number): string {
  if (error instanceof AudioMissingError) return error.message;
  return toHttpError(error, maxUploadBytes).message;
}
