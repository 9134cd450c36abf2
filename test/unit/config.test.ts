import os from "node:os";
import { describe, expect, it } from "vitest";
import { registeredBackends } from "../../lib/backends/registry.js";
import { ASR_BACKENDS, loadSettings, SettingsError } from "../../lib/config.js";

function errorOf(env: Record<string, string | undefined>): SettingsError {
  try {
    loadSettings(env);
  } catch (error) {
    expect(error).toBeInstanceOf(SettingsError);
    return error as SettingsError;
  }
  throw new Error("loadSettings accepted an invalid environment");
}

describe("loadSettings", () => {
  it("gives the documented defaults for an empty environment", () => {
    const s = loadSettings({});
    expect(s).toEqual({
      asrBackend: "whisper",
      whisperModel: "large",
      whisperLanguage: "zh",
      whisperDownloadRoot: "./data/models/whisper",
      whisperModelUrl: "https://huggingface.co/ggerganov/whisper.cpp/resolve/main",
      whisperModelSha256: undefined,
      whisperVad: false,
      whisperVadModel: "silero-v6.2.0",
      device: "auto",
      whisperThreads: os.availableParallelism(),
      whisperPoolSize: 1,
      whisperQueueSize: 16,
      whisperMaxUploadMb: 100,
      port: 8000,
      host: "0.0.0.0",
      logLevel: "info",
      ffmpegPath: undefined,
      wsHeartbeatInterval: 30,
      wsHeartbeatTimeout: 60,
      wsChunkSize: 9600,
      wsCompression: true,
      realtimeMaxStreams: 8,
      realtimeMaxFrameBytes: 1048576,
      realtimeMaxStreamSeconds: 3600,
      realtimeStepMs: 1000,
      whisperGpuDevice: 0,
      redisUrl: undefined,
      jobStorage: undefined,
      jobRedisAudioMaxMb: 10,
      jobResultTtlS: 86_400,
      jobAttempts: 3,
      jobLockMs: 30_000,
      jobWebhookSecret: undefined,
      allowPrivateUrls: false,
      dataDir: "./data",
      whisperMaxAudioS: 14_400,
      whisperLoadRetries: 5,
      whisperLoadRetryS: 10,
      apiKeys: [],
      corsOrigins: "*",
      whisperZhScript: "simplified",
      whisperZhPunctuation: true,
      whisperZhPrompt: true,
    });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it("reads API_KEYS, CORS_ORIGINS and the audio and retry limits (issue 12)", () => {
    const s = loadSettings({
      API_KEYS: " a1, b2 ,a1,, ",
      CORS_ORIGINS: "https://app.example.com/, http://localhost:5173",
      WHISPER_MAX_AUDIO_S: "60.5",
      WHISPER_LOAD_RETRIES: "0",
      WHISPER_LOAD_RETRY_S: "0.25",
    });
    expect(s).toMatchObject({ apiKeys: ["a1", "b2"], corsOrigins: ["https://app.example.com", "http://localhost:5173"], whisperMaxAudioS: 60.5, whisperLoadRetries: 0, whisperLoadRetryS: 0.25 });
    expect(loadSettings({ CORS_ORIGINS: " * " }).corsOrigins).toBe("*");
    expect(() => loadSettings({ CORS_ORIGINS: "*, https://a.example" })).toThrow(/^Invalid settings in the environment:\nCORS_ORIGINS: expected "\*" alone/);
    expect(() => loadSettings({ CORS_ORIGINS: "https://a.example/path" })).toThrow(/CORS_ORIGINS: expected "\*" or comma-separated origins \(scheme:\/\/host\[:port\], no path\)/);
    expect(() => loadSettings({ API_KEYS: "good,has space" })).toThrow(/API_KEYS: expected comma-separated keys without spaces or control characters/);
    expect(() => loadSettings({ WHISPER_MAX_AUDIO_S: "0" })).toThrow(/WHISPER_MAX_AUDIO_S: expected a number greater than 0/);
    expect(() => loadSettings({ WHISPER_LOAD_RETRIES: "-1" })).toThrow(/WHISPER_LOAD_RETRIES: expected an integer between 0 and 1000/);
  });

  it("reads the job settings (docs/SCALE.md)", () => {
    expect(
      loadSettings({
        WHISPER_GPU_DEVICE: "3",
        REDIS_URL: "redis://:pw@redis:6379/2",
        JOB_STORAGE: "dir:/shared/jobs",
        JOB_REDIS_AUDIO_MAX_MB: "2.5",
        JOB_RESULT_TTL_S: "3600",
        JOB_ATTEMPTS: "5",
        JOB_LOCK_MS: "10000",
        JOB_WEBHOOK_SECRET: "s",
        ALLOW_PRIVATE_URLS: "yes",
      }),
    ).toMatchObject({
      whisperGpuDevice: 3,
      redisUrl: "redis://:pw@redis:6379/2",
      jobStorage: { kind: "dir", path: "/shared/jobs" },
      jobRedisAudioMaxMb: 2.5,
      jobResultTtlS: 3600,
      jobAttempts: 5,
      jobLockMs: 10_000,
      jobWebhookSecret: "s",
      allowPrivateUrls: true,
    });
    expect(loadSettings({ JOB_STORAGE: "s3://my-bucket/audio/" }).jobStorage).toEqual({ kind: "s3", bucket: "my-bucket", prefix: "audio" });
    const error = errorOf({ REDIS_URL: "http://redis", JOB_STORAGE: "/tmp/x", ALLOW_PRIVATE_URLS: "maybe", JOB_LOCK_MS: "10" });
    expect(error.issues.map((i) => i.variable)).toEqual(["REDIS_URL", "JOB_STORAGE", "JOB_LOCK_MS", "ALLOW_PRIVATE_URLS"]);
    expect(error.message).toContain('JOB_STORAGE: expected dir:/path or s3://bucket/prefix but received "/tmp/x"');
  });

  it("accepts the backends this package provides, and says so of TingWu's others", () => {
    expect(ASR_BACKENDS).toEqual(registeredBackends());
    for (const backend of ASR_BACKENDS) expect(loadSettings({ ASR_BACKEND: backend }).asrBackend).toBe(backend);
    expect(loadSettings({ ASR_BACKEND: " Whisper " }).asrBackend).toBe("whisper");
    expect(errorOf({ ASR_BACKEND: "pytorch" }).message).toContain(
      'ASR_BACKEND: expected whisper ("pytorch" is one of TingWu\'s other backends, which this service does not provide) but received "pytorch"',
    );
  });

  it("reads every variable", () => {
    const s = loadSettings({
      ASR_BACKEND: "whisper",
      WHISPER_MODEL: "large-v3-turbo-q8_0",
      WHISPER_LANGUAGE: "English",
      WHISPER_DOWNLOAD_ROOT: "/app/data/models/whisper",
      WHISPER_MODEL_URL: "https://hf-mirror.com/ggerganov/whisper.cpp/resolve/main/",
      WHISPER_MODEL_SHA256: "AB".repeat(32),
      WHISPER_VAD: "yes",
      WHISPER_VAD_MODEL: "/models/ggml-silero-v6.2.0.bin",
      DEVICE: "cuda",
      WHISPER_THREADS: "6",
      WHISPER_POOL_SIZE: "2",
      WHISPER_QUEUE_SIZE: "0",
      WHISPER_MAX_UPLOAD_MB: "0.5",
      PORT: "8105",
      HOST: "127.0.0.1",
      LOG_LEVEL: "debug",
      FFMPEG_PATH: "/opt/ffmpeg/bin/ffmpeg",
      DATA_DIR: "/app/data",
      UNRELATED: "ignored",
    });
    expect(s).toMatchObject({
      whisperModel: "large-v3-turbo-q8_0",
      whisperLanguage: "en",
      whisperDownloadRoot: "/app/data/models/whisper",
      whisperModelUrl: "https://hf-mirror.com/ggerganov/whisper.cpp/resolve/main",
      whisperModelSha256: "ab".repeat(32),
      whisperVad: true,
      whisperVadModel: "/models/ggml-silero-v6.2.0.bin",
      device: "cuda",
      whisperThreads: 6,
      whisperPoolSize: 2,
      whisperQueueSize: 0,
      whisperMaxUploadMb: 0.5,
      port: 8105,
      host: "127.0.0.1",
      logLevel: "debug",
      ffmpegPath: "/opt/ffmpeg/bin/ffmpeg",
      dataDir: "/app/data",
    });
  });

  it("treats an empty or 'auto' WHISPER_LANGUAGE as auto-detect, and other blanks as unset", () => {
    expect(loadSettings({ WHISPER_LANGUAGE: "" }).whisperLanguage).toBe("auto");
    expect(loadSettings({ WHISPER_LANGUAGE: "  " }).whisperLanguage).toBe("auto");
    expect(loadSettings({ WHISPER_LANGUAGE: "AUTO" }).whisperLanguage).toBe("auto");
    expect(loadSettings({ PORT: "", DEVICE: "" })).toMatchObject({ port: 8000, device: "auto" });
  });

  it("accepts model names, quantised names and .bin paths", () => {
    for (const model of ["tiny", "tiny.en", "base.en", "small", "medium.en", "large-v1", "large-v2", "large-v3", "large", "base-q5_1", "large-v3-turbo", "./models/my.bin", "/abs/ggml-x.BIN"]) {
      expect(loadSettings({ WHISPER_MODEL: model }).whisperModel).toBe(model);
    }
  });

  it("rejects an unknown backend with a message listing the valid ones", () => {
    const error = errorOf({ ASR_BACKEND: "foo" });
    expect(error.message).toContain('ASR_BACKEND: expected one of whisper but received "foo"');
    expect(error.issues).toEqual([{ variable: "ASR_BACKEND", message: expect.stringContaining("whisper") }]);
  });

  it("reports every bad variable, one line each", () => {
    const error = errorOf({
      ASR_BACKEND: "foo",
      WHISPER_MODEL: "huge",
      WHISPER_LANGUAGE: "klingon",
      DEVICE: "tpu",
      WHISPER_THREADS: "0",
      WHISPER_POOL_SIZE: "two",
      WHISPER_QUEUE_SIZE: "-1",
      WHISPER_MAX_UPLOAD_MB: "0",
      PORT: "70000",
      LOG_LEVEL: "loud",
      WHISPER_MODEL_URL: "ftp://example.com/models",
      WHISPER_MODEL_SHA256: "abc",
    });
    const lines = error.message.split("\n").slice(1);
    expect(lines.map((l) => l.split(":")[0])).toEqual([
      "ASR_BACKEND",
      "WHISPER_MODEL",
      "WHISPER_LANGUAGE",
      "WHISPER_MODEL_URL",
      "WHISPER_MODEL_SHA256",
      "DEVICE",
      "WHISPER_THREADS",
      "WHISPER_POOL_SIZE",
      "WHISPER_QUEUE_SIZE",
      "WHISPER_MAX_UPLOAD_MB",
      "PORT",
      "LOG_LEVEL",
    ]);
    expect(error.message).toContain('PORT: expected an integer between 0 and 65535 but received "70000"');
    expect(error.message).toContain('DEVICE: expected one of cuda, cpu, auto but received "tpu"');
    expect(error.message).toContain('WHISPER_THREADS: expected an integer between 1 and 512 but received "0"');
    expect(error.message).toMatch(/WHISPER_MODEL: expected a model name .* but received "huge"/);
    expect(error.code).toBe("ERR_SETTINGS");
  });

  it("rejects numbers with junk, signs, exponents or fractions where integers are expected", () => {
    for (const port of ["80abc", "-1", "1e3", "80.5", "0x50"]) expect(errorOf({ PORT: port }).issues[0]!.variable).toBe("PORT");
  });

  it("rejects a .gguf path and .en on sizes that have no English-only model", () => {
    expect(errorOf({ WHISPER_MODEL: "/models/whisper.gguf" }).issues[0]!.variable).toBe("WHISPER_MODEL");
    expect(errorOf({ WHISPER_MODEL: "large-v3.en" }).issues[0]!.variable).toBe("WHISPER_MODEL");
  });

  it("reads the realtime settings: heartbeats, compression and limits", () => {
    expect(
      loadSettings({
        WS_HEARTBEAT_INTERVAL: "0.5",
        WS_HEARTBEAT_TIMEOUT: "0",
        WS_COMPRESSION: "false",
        REALTIME_MAX_STREAMS: "0",
        REALTIME_STEP_MS: "500",
      }),
    ).toMatchObject({
      wsHeartbeatInterval: 0.5,
      wsHeartbeatTimeout: 0,
      wsCompression: false,
      realtimeMaxStreams: 0,
      realtimeStepMs: 500,
    });
    expect(errorOf({ WS_COMPRESSION: "maybe" }).issues[0]!.message).toBe('expected true/false, 1/0, yes/no or on/off but received "maybe"');
    expect(errorOf({ REALTIME_STEP_MS: "50" }).issues[0]!.variable).toBe("REALTIME_STEP_MS");
  });

  it("rejects a non-object env with a TypeError", () => {
    expect(() => loadSettings(null as never)).toThrow(TypeError);
  });
});
