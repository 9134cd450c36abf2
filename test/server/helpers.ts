// A real server on 127.0.0.1 with the scripted fixture model, and upload helpers.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { ModelManager } from "../../lib/backends/index.js";
import { loadSettings } from "../../lib/config.js";
import type { Settings } from "../../lib/config.js";
import { ffmpegAvailable } from "../../lib/audio/ffmpeg.js";
import { float32ToPcm16 } from "../../lib/audio/pcm.js";
import { buildApp } from "../../lib/server/app.js";
import type { BuildAppOptions } from "../../lib/server/app.js";
import { makeAudio, MIN_AUDIO_SECONDS, SCRIPT, scriptedModelPath } from "../fixtures/models.js";
import { encodeWav16 } from "../helpers/wav.js";

export { SCRIPT };

/** A 16-bit 16 kHz mono WAV file of the test audio. */
export function wavFile(seconds = MIN_AUDIO_SECONDS): Buffer {
  return encodeWav16(makeAudio(seconds));
}

/** The same audio as headerless s16le (whisper-asr-webservice `encode=false`). */
export function rawPcm(seconds = MIN_AUDIO_SECONDS): Buffer {
  return float32ToPcm16(makeAudio(seconds));
}

/** TingWu's sentences for the script: trimmed text, integer ms. */
export const SCRIPT_SENTENCES = SCRIPT.segments.map((s) => ({ text: s.text.trim(), start: s.start, end: s.end }));
/** The whole transcript as TingWu and OpenAI give it (trimmed). */
export const SCRIPT_TEXT = SCRIPT.text.trim();

/**
 * What a server answers for bytes that are not a WAV file. With ffmpeg installed it tries them and
 * fails with a 400; without ffmpeg (a fresh machine) it can't decode anything but WAV: a 415. Both
 * are defined outcomes, so the tests hold either way (CI installs ffmpeg and takes the first).
 */
export const NOT_WAV = (await ffmpegAvailable())
  ? { status: 400, code: "invalid_audio", detail: /^Could not decode the audio file: / }
  : { status: 415, code: "unsupported_format", detail: /^This server can only decode WAV files: ffmpeg is not installed \(set FFMPEG_PATH\)/ };

export interface TestServer {
  app: FastifyInstance;
  manager: ModelManager;
  settings: Settings;
  /** `http://127.0.0.1:<port>` */
  base: string;
  close(): Promise<void>;
}

/**
 * Builds the app on the scripted model, loads the model (unless `load: false`) and listens on
 * 127.0.0.1 on a free port.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  options: { load?: boolean; app?: Omit<BuildAppOptions, "settings" | "manager"> } = {},
): Promise<TestServer> {
  // Each server gets its own DATA_DIR (hotword lists, config.json), never the checkout's ./data.
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "tingwu-data-"));
  const settings = loadSettings({ WHISPER_MODEL: await scriptedModelPath({ dims: "mini" }), WHISPER_THREADS: "2", LOG_LEVEL: "silent", DATA_DIR: dataDir, ...env });
  const manager = new ModelManager(settings);
  if (options.load ?? true) await manager.getBackend();
  const app = await buildApp({ settings, manager, ...options.app });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address();
  if (address === null || typeof address === "string") throw new Error("expected a TCP address");
  return {
    app,
    manager,
    settings,
    base: `http://127.0.0.1:${address.port}`,
    async close() {
      await app.close();
      await manager.unload();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A multipart form; Buffers become file parts named `<field>.wav` unless a name is given. */
export function form(fields: Record<string, string | Buffer | { data: Buffer; name: string } | (string | Buffer)[]>): FormData {
  const fd = new FormData();
  const add = (key: string, value: string | Buffer | { data: Buffer; name: string }) => {
    if (typeof value === "string") fd.append(key, value);
    else if (Buffer.isBuffer(value)) fd.append(key, new Blob([value]), `${key}.wav`);
    else fd.append(key, new Blob([value.data]), value.name);
  };
  for (const [key, value] of Object.entries(fields)) {
    if (Array.isArray(value)) for (const v of value) add(key, v);
    else add(key, value);
  }
  return fd;
}

export async function postForm(url: string, body: FormData, init: RequestInit = {}): Promise<Response> {
  return fetch(url, { method: "POST", body, ...init });
}

/** A metric's value from /metrics/prometheus text (labels as written, e.g. `{reason="timeout"}`). */
export function metricValue(text: string, name: string, labels = ""): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(`${name}${labels} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

export async function metrics(base: string): Promise<string> {
  return (await fetch(`${base}/metrics/prometheus`)).text();
}

/** Polls until `check` returns true (bounded). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 30_000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
