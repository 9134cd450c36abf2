import { execFileSync } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeAudio, decodeRawPcm16 } from "../../lib/audio/decode.js";
import { decodeWithFfmpeg, ffmpegAvailable, needsSeekableInput } from "../../lib/audio/ffmpeg.js";
import { float32ToPcm16 } from "../../lib/audio/pcm.js";
import { AudioDecodeError } from "../../lib/audio/wav.js";
import { AbortError } from "../../lib/errors.js";
import { encodeWav16 } from "../helpers/wav.js";
import { rejection } from "../helpers/rejection.js";

const hasFfmpeg = await ffmpegAvailable();

function tone(hz: number, rate: number, seconds: number, amplitude = 0.5): Float32Array {
  const out = new Float32Array(Math.round(rate * seconds));
  for (let i = 0; i < out.length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * hz * i) / rate);
  return out;
}

/** Frequency from rising zero crossings over the middle half. */
function toneHz(x: Float32Array, rate: number): number {
  const mid = x.subarray(Math.floor(x.length / 4), Math.floor((3 * x.length) / 4));
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = 1; i < mid.length; i++) {
    if (mid[i - 1]! < 0 && mid[i]! >= 0) {
      const at = i - 1 + -mid[i - 1]! / (mid[i]! - mid[i - 1]!);
      if (first < 0) first = at;
      else count++;
      last = at;
    }
  }
  return (count * rate) / (last - first);
}

function peak(x: Float32Array): number {
  let max = 0;
  for (const v of x.subarray(Math.floor(x.length / 4), Math.floor((3 * x.length) / 4))) max = Math.max(max, Math.abs(v));
  return max;
}

let dir: string;
beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "tingwu-decode-test-"));
});
afterAll(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

/** Writes an executable shell script standing in for ffmpeg. */
async function fakeFfmpeg(name: string, body: string): Promise<string> {
  const file = path.join(dir, name);
  await fs.writeFile(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

describe("decodeAudio: WAV and raw PCM (no ffmpeg needed)", () => {
  it("parses a 44.1 kHz stereo WAV in TypeScript and resamples it to 16 kHz", async () => {
    const stereo = new Float32Array(44_100 * 2 * 2);
    const t = tone(1000, 44_100, 2);
    for (let i = 0; i < t.length; i++) {
      stereo[2 * i] = t[i]!;
      stereo[2 * i + 1] = t[i]!;
    }
    const wav = encodeWav16(stereo, 44_100, 2);
    const decoded = await decodeAudio(wav, { ffmpegPath: "/nonexistent/ffmpeg" });
    expect(decoded.source).toBe("wav");
    expect(decoded.samples.length).toBe(32_000);
    expect(decoded.durationMs).toBe(2000);
    expect(toneHz(decoded.samples, 16_000)).toBeCloseTo(1000, 0);
    expect(peak(decoded.samples)).toBeCloseTo(0.5, 2);
  });

  it("decodes a WAV from a path", async () => {
    const file = path.join(dir, "mono.wav");
    await fs.writeFile(file, encodeWav16(tone(440, 16_000, 0.5)));
    const decoded = await decodeAudio(file, { ffmpegPath: "/nonexistent/ffmpeg" });
    expect(decoded).toMatchObject({ source: "wav", durationMs: 500 });
    expect(toneHz(decoded.samples, 16_000)).toBeCloseTo(440, 0);
  });

  it("decodes raw s16le with a given rate and channel count", async () => {
    const mono = float32ToPcm16(tone(1000, 8000, 1));
    const decoded = await decodeAudio(mono, { format: "s16le", sampleRate: 8000 });
    expect(decoded).toMatchObject({ source: "pcm", durationMs: 1000 });
    expect(decoded.samples.length).toBe(16_000);
    expect(toneHz(decoded.samples, 16_000)).toBeCloseTo(1000, 0);

    const sync = decodeRawPcm16(mono, 8000, 1);
    expect(sync).toEqual(decoded.samples);
    // Two channels in antiphase average to silence.
    const interleaved = new Float32Array(3200);
    for (let i = 0; i < 1600; i++) {
      interleaved[2 * i] = 0.25;
      interleaved[2 * i + 1] = -0.25;
    }
    expect(Math.max(...decodeRawPcm16(float32ToPcm16(interleaved), 16_000, 2).map(Math.abs))).toBe(0);
  });

  it("rejects raw PCM that isn't whole frames, and bad layouts", async () => {
    expect(() => decodeRawPcm16(Buffer.alloc(6), 16_000, 2)).toThrow(/multiple of 4 bytes/);
    expect(() => decodeRawPcm16(Buffer.alloc(4), 0)).toThrow(/sampleRate/);
    expect(() => decodeRawPcm16(Buffer.alloc(4), 16_000, 0)).toThrow(/channels/);
    await expect(decodeAudio(Buffer.alloc(3), { format: "s16le" })).rejects.toThrow(RangeError);
  });

  it("enforces maxDurationMs", async () => {
    const error = await rejection(decodeAudio(encodeWav16(tone(440, 16_000, 2)), { maxDurationMs: 1500 }));
    expect(error).toBeInstanceOf(AudioDecodeError);
    expect((error as AudioDecodeError).code).toBe("TOO_LONG");
  });

  it("rejects a truncated WAV header with TRUNCATED and an already-aborted signal with AbortError", async () => {
    const error = await rejection(decodeAudio(Buffer.from("RIFF\x24\x00\x00", "latin1")));
    expect((error as AudioDecodeError).code).toBe("TRUNCATED");
    await expect(decodeAudio(encodeWav16(tone(1, 16_000, 0.1)), { signal: AbortSignal.abort() })).rejects.toBeInstanceOf(AbortError);
  });

  it("rejects bad arguments with TypeError/RangeError", async () => {
    await expect(decodeAudio(42 as never)).rejects.toThrow(TypeError);
    await expect(decodeAudio("")).rejects.toThrow(TypeError);
    await expect(decodeAudio(Buffer.alloc(4), { format: "mp3" as never })).rejects.toThrow(/format/);
    await expect(decodeAudio(Buffer.alloc(4), { signal: {} as never })).rejects.toThrow(/AbortSignal/);
  });
});

describe("ffmpeg process handling (fake ffmpeg executables)", () => {
  it("says how to install ffmpeg when it is missing", async () => {
    const error = await rejection(decodeAudio(Buffer.from("ID3 not really an mp3"), { ffmpegPath: path.join(dir, "no-such-ffmpeg") }));
    expect(error).toBeInstanceOf(AudioDecodeError);
    expect((error as AudioDecodeError).code).toBe("FFMPEG_NOT_FOUND");
    expect(error.message).toMatch(/apt-get install ffmpeg/);
    expect(error.message).toMatch(/FFMPEG_PATH/);
  });

  it("uses FFMPEG_PATH when no ffmpegPath is given", async () => {
    const saved = process.env.FFMPEG_PATH;
    process.env.FFMPEG_PATH = path.join(dir, "also-missing");
    try {
      const error = await rejection(decodeWithFfmpeg(Buffer.from("xyz")));
      expect(error.message).toContain("also-missing");
    } finally {
      if (saved === undefined) delete process.env.FFMPEG_PATH;
      else process.env.FFMPEG_PATH = saved;
    }
  });

  it("kills ffmpeg and rejects with AbortError when aborted", async () => {
    const pidFile = path.join(dir, "sleeper.pid");
    const sleeper = await fakeFfmpeg("sleeper", `echo $$ > ${pidFile}\nexec sleep 30`);
    const controller = new AbortController();
    const started = Date.now();
    const decoding = decodeAudio(Buffer.from("OggS fake"), { ffmpegPath: sleeper, signal: controller.signal });
    for (let i = 0; i < 100 && !(await fs.stat(pidFile).catch(() => undefined)); i++) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(decoding).rejects.toBeInstanceOf(AbortError);
    expect(Date.now() - started).toBeLessThan(10_000);
    const pid = Number((await fs.readFile(pidFile, "utf8")).trim());
    expect(() => process.kill(pid, 0)).toThrow(); // the process is gone
  });

  it("reports ffmpeg killed by a signal as FFMPEG_FAILED", async () => {
    const suicidal = await fakeFfmpeg("suicidal", "cat > /dev/null\nkill -9 $$");
    const error = await rejection(decodeAudio(Buffer.from("fake"), { ffmpegPath: suicidal }));
    expect((error as AudioDecodeError).code).toBe("FFMPEG_FAILED");
    expect(error.message).toMatch(/SIGKILL/);
  });

  it("reports a non-zero exit with ffmpeg's stderr as UNDECODABLE", async () => {
    const failing = await fakeFfmpeg("failing", "cat > /dev/null\necho 'pipe:0: Invalid data found when processing input' >&2\nexit 1");
    const error = (await rejection(decodeAudio(Buffer.from("fake"), { ffmpegPath: failing }))) as AudioDecodeError;
    expect(error.code).toBe("UNDECODABLE");
    expect(error.message).toContain("Invalid data found when processing input");
    expect(error.stderr).toContain("Invalid data");
  });

  it("reports exit 0 with no output as NO_AUDIO, or UNDECODABLE when stderr explains", async () => {
    const silent = await fakeFfmpeg("silent", "cat > /dev/null\nexit 0");
    expect(((await rejection(decodeAudio(Buffer.from("fake"), { ffmpegPath: silent }))) as AudioDecodeError).code).toBe("NO_AUDIO");
    const partial = await fakeFfmpeg("partial", "cat > /dev/null\necho 'partial file' >&2\nexit 0");
    expect(((await rejection(decodeAudio(Buffer.from("fake"), { ffmpegPath: partial }))) as AudioDecodeError).code).toBe("UNDECODABLE");
  });

  it("survives ffmpeg exiting without reading its input (EPIPE)", async () => {
    const quitter = await fakeFfmpeg("quitter", "echo 'bad input' >&2\nexit 1");
    const error = (await rejection(decodeAudio(Buffer.alloc(8 << 20, 1), { ffmpegPath: quitter }))) as AudioDecodeError;
    expect(error.code).toBe("UNDECODABLE");
  });

  it("rejects empty input before starting ffmpeg", async () => {
    const error = (await rejection(decodeAudio(Buffer.alloc(0), { ffmpegPath: "/nonexistent/ffmpeg" }))) as AudioDecodeError;
    expect(error.code).toBe("UNDECODABLE");
  });
});

describe("needsSeekableInput", () => {
  const box = (type: string, size: number) => {
    const b = Buffer.alloc(size);
    b.writeUInt32BE(size, 0);
    b.write(type, 4, "ascii");
    return b;
  };
  it("is true only for ISO-BMFF files whose moov comes after mdat", () => {
    expect(needsSeekableInput(Buffer.concat([box("ftyp", 16), box("mdat", 32), box("moov", 16)]))).toBe(true);
    expect(needsSeekableInput(Buffer.concat([box("ftyp", 16), box("moov", 16), box("mdat", 32)]))).toBe(false);
    expect(needsSeekableInput(Buffer.concat([box("ftyp", 16), box("free", 8), box("moov", 16)]))).toBe(false);
    expect(needsSeekableInput(Buffer.from("ID3\x03 mp3 data here", "latin1"))).toBe(false);
  });
});

describe.skipIf(!hasFfmpeg)("decodeAudio through ffmpeg", () => {
  const files: Record<string, string> = {};

  beforeAll(async () => {
    const wav = path.join(dir, "source.wav");
    await fs.writeFile(wav, encodeWav16(tone(1000, 44_100, 2), 44_100));
    const convert = (name: string, args: string[]) => {
      const out = path.join(dir, name);
      execFileSync("ffmpeg", ["-hide_banner", "-loglevel", "error", "-y", ...args, out]);
      files[name] = out;
    };
    convert("tone.mp3", ["-i", wav, "-c:a", "libmp3lame", "-b:a", "128k"]);
    convert("tone.ogg", ["-i", wav, "-c:a", "libvorbis"]);
    convert("tone.opus", ["-i", wav, "-c:a", "libopus"]);
    convert("tone.flac", ["-i", wav, "-c:a", "flac"]);
    convert("tone.m4a", ["-i", wav, "-c:a", "aac", "-movflags", "+faststart"]);
    convert("tone.webm", ["-i", wav, "-c:a", "libopus", "-f", "webm"]);
    convert("mulaw.wav", ["-i", wav, "-c:a", "pcm_mulaw"]);
    convert("video.mp4", ["-f", "lavfi", "-i", "testsrc=size=64x48:rate=10:duration=2", "-i", wav, "-c:v", "mpeg4", "-c:a", "aac", "-shortest"]);
    // 20 s with the index at the end (ffmpeg's default): too big to decode from a pipe.
    convert("moov-last.m4a", ["-f", "lavfi", "-i", "sine=frequency=1000:sample_rate=16000:duration=20", "-c:a", "aac", "-b:a", "32k"]);
  });

  for (const name of ["tone.mp3", "tone.ogg", "tone.opus", "tone.flac", "tone.m4a", "tone.webm", "mulaw.wav", "video.mp4"]) {
    it(`decodes ${name} from bytes to 16 kHz mono with the tone intact`, async () => {
      const decoded = await decodeAudio(await fs.readFile(files[name]!));
      expect(decoded.source).toBe("ffmpeg");
      // Lossy codecs add encoder delay/padding of a few tens of ms.
      expect(Math.abs(decoded.durationMs - 2000)).toBeLessThan(120);
      expect(decoded.durationMs).toBe(Math.round(decoded.samples.length / 16));
      expect(toneHz(decoded.samples, 16_000)).toBeCloseTo(1000, 0);
      expect(peak(decoded.samples)).toBeGreaterThan(0.4);
      expect(peak(decoded.samples)).toBeLessThan(0.6);
    });
  }

  it("decodes from a path", async () => {
    const decoded = await decodeAudio(files["tone.flac"]!);
    expect(decoded.source).toBe("ffmpeg");
    expect(decoded.durationMs).toBe(2000);
  });

  it("decodes an m4a whose index is at the end (not decodable from a pipe)", async () => {
    const bytes = await fs.readFile(files["moov-last.m4a"]!);
    expect(needsSeekableInput(bytes)).toBe(true);
    const decoded = await decodeAudio(bytes);
    expect(Math.abs(decoded.durationMs - 20_000)).toBeLessThan(120);
    expect(toneHz(decoded.samples, 16_000)).toBeCloseTo(1000, 0);
  });

  it("gives UNDECODABLE with ffmpeg's explanation for garbage", async () => {
    const garbage = Buffer.alloc(50_000);
    for (let i = 0; i < garbage.length; i++) garbage[i] = (i * 7919) % 251;
    const error = (await rejection(decodeAudio(garbage))) as AudioDecodeError;
    expect(error).toBeInstanceOf(AudioDecodeError);
    expect(error.code).toBe("UNDECODABLE");
    expect(error.message).toMatch(/Invalid data|could not decode/);
  });

  it("stops at maxDurationMs", async () => {
    const error = (await rejection(decodeAudio(await fs.readFile(files["tone.mp3"]!), { maxDurationMs: 500 }))) as AudioDecodeError;
    expect(error.code).toBe("TOO_LONG");
  });

  it("runs concurrent decodes without interference", async () => {
    const names = ["tone.mp3", "tone.ogg", "tone.flac", "moov-last.m4a"];
    const results = await Promise.all(names.map(async (n) => decodeAudio(await fs.readFile(files[n]!))));
    for (const r of results) expect(toneHz(r.samples, 16_000)).toBeCloseTo(1000, 0);
  });
});
