// Defect 3 of issue 12: a WAV header claiming 1 Hz turned 2 KB into 1,000 s of audio (21 s of
// work, 369 MB). Rates outside 1,000-384,000 Hz are 400; WHISPER_MAX_AUDIO_S is checked from the
// header before samples are allocated, and on ffmpeg's output as it streams (413).
import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ffmpegAvailable } from "../../lib/audio/ffmpeg.js";
import { form, postForm, startTestServer } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";
import { encodeWav16 } from "../helpers/wav.js";

/** A 16-bit mono WAV whose header says `rate` Hz, with `bytes` of data. */
function wavClaiming(rate: number, bytes: number): Buffer {
  const wav = encodeWav16(new Float32Array(bytes / 2));
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  return wav;
}

const HAVE_FFMPEG = await ffmpegAvailable();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ WHISPER_MAX_AUDIO_S: "30" });
});
afterAll(() => server?.close());

describe("sample rates and durations", () => {
  it("a WAV claiming 1 Hz or 384,001 Hz is 400 at once", async () => {
    for (const rate of [1, 999, 384_001]) {
      const response = await postForm(`${server.base}/api/v1/transcribe`, form({ file: wavClaiming(rate, 20_000) }));
      expect(response.status).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toBe(
        `Could not decode the audio file: Invalid WAV: the fmt chunk says a sample rate of ${rate} Hz; 1000 to 384000 Hz are accepted`,
      );
    }
  });

  it("a WAV longer than WHISPER_MAX_AUDIO_S is 413 from its header (OpenAI shape)", async () => {
    const response = await postForm(`${server.base}/v1/audio/transcriptions`, form({ file: wavClaiming(1000, 2 * 1000 * 31), model: "whisper-1" }));
    expect(response.status).toBe(413);
    const body = (await response.json()) as { error: { code: string; param: string; message: string } };
    expect(body.error).toMatchObject({ code: "audio_too_long", param: "file" });
    expect(body.error.message).toMatch(/^The audio is too long \(WHISPER_MAX_AUDIO_S\): The audio lasts 31000 ms, more than the allowed 30000 ms$/);
  });

  it.skipIf(!HAVE_FFMPEG)("ffmpeg output over WHISPER_MAX_AUDIO_S is 413 while it streams", async () => {
    // 60 s of FLAC silence: a few KB in, 60 s out.
    const flac = spawnSync("ffmpeg", ["-v", "error", "-f", "lavfi", "-i", "anullsrc=r=16000:cl=mono", "-t", "60", "-f", "flac", "-"], { maxBuffer: 1 << 24 });
    expect(flac.status).toBe(0);
    const response = await postForm(`${server.base}/asr?output=txt`, form({ audio_file: { data: flac.stdout, name: "long.flac" } }));
    expect(response.status).toBe(413);
    expect(((await response.json()) as { detail: string }).detail).toMatch(/^The audio is too long \(WHISPER_MAX_AUDIO_S\): /);
  });
});
