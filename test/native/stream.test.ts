// model.stream() on the scripted model: exact partial/final sequences, stable text never revised,
// silence costs no decode, close() stops work, and several streams share one model.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { float32ToPcm16 } from "../../lib/audio/pcm.js";
import { Whisper } from "../../lib/whisper.js";
import type { StreamFinal, StreamPartial, Streamer } from "../../lib/stream/index.js";
import { makeAudio, scriptedModelPath } from "../fixtures/models.js";

const HELLO = "Hello world, this is TingWu.";
const NIHAO = "你好，世界。";

/** Writes `seconds` of audio in 1 s chunks, letting each decode finish before the next chunk. */
async function feed(streamer: Streamer, audio: Float32Array, chunk = 16_000): Promise<void> {
  for (let i = 0; i < audio.length; i += chunk) {
    streamer.write(audio.subarray(i, i + chunk));
    await streamer.idle();
  }
}

function record(streamer: Streamer) {
  const partials: Omit<StreamPartial, "startMs">[] = [];
  const finals: StreamFinal[] = [];
  streamer.on("partial", ({ text, stable, unstable, endMs }) => partials.push({ text, stable, unstable, endMs }));
  streamer.on("final", (f) => finals.push(f));
  return { partials, finals };
}

describe("model.stream() (scripted model)", () => {
  let model: Whisper;
  beforeAll(async () => {
    model = await Whisper.load(await scriptedModelPath({ dims: "mini" }), { threads: 2, concurrency: 2 });
  }, 600_000);
  afterAll(async () => model?.dispose());

  it("emits partials whose stable part two decodes agreed on, then a final that starts with it", async () => {
    const streamer = model.stream({ language: "auto" });
    const { partials, finals } = record(streamer);
    await feed(streamer, makeAudio(4));
    expect(partials).toEqual([
      { text: "Hello world, this", stable: "", unstable: "Hello world, this", endMs: 1000 },
      { text: HELLO, stable: "Hello world, this", unstable: " is TingWu.", endMs: 2000 },
      { text: `${HELLO} ${NIHAO}`, stable: HELLO, unstable: ` ${NIHAO}`, endMs: 3000 },
      { text: `${HELLO} ${NIHAO}`, stable: `${HELLO} ${NIHAO}`, unstable: "", endMs: 4000 },
    ]);
    const final = await streamer.end();
    expect(finals).toEqual([final]);
    expect(final).toEqual({
      text: `${HELLO} ${NIHAO}`,
      sentences: [
        { text: HELLO, start: 400, end: 1800 },
        { text: NIHAO, start: 2000, end: 3600 },
      ],
      language: "zh",
      startMs: 0,
      endMs: 4000,
    });
    expect(streamer.stats).toEqual({ decodes: 5, skipped: 0, audioMs: 4000, computeMs: expect.any(Number) });
    expect(streamer.stats.computeMs).toBeGreaterThan(0);
    streamer.close();
  }, 600_000);

  it("never revises stable text while the buffer is cut and the script repeats (8 s, cut after 3 s)", async () => {
    const streamer = model.stream({ stepMs: 2000, trimAfterMs: 3000, maxBufferMs: 6000 });
    const { partials } = record(streamer);
    await feed(streamer, makeAudio(8), 32_000);
    const final = await streamer.end();
    let previous = "";
    for (const p of partials) {
      expect(p.text).toBe(p.stable + p.unstable);
      expect(p.stable.startsWith(previous)).toBe(true);
      previous = p.stable;
    }
    expect(final.text.startsWith(previous)).toBe(true);
    // The buffer was cut after "TingWu." (4 s decode): the script came round again past the cut.
    expect(partials).toEqual([
      { text: HELLO, stable: "", unstable: HELLO, endMs: 2000 },
      { text: `${HELLO} ${NIHAO}`, stable: HELLO, unstable: ` ${NIHAO}`, endMs: 4000 },
      { text: `${HELLO} ${NIHAO}`, stable: `${HELLO} ${NIHAO}`, unstable: "", endMs: 6000 },
      { text: `${HELLO} ${NIHAO} ${HELLO} 你好，`, stable: `${HELLO} ${NIHAO}`, unstable: ` ${HELLO} 你好，`, endMs: 8000 },
    ]);
    expect(final.text).toBe(`${HELLO} ${NIHAO} ${HELLO} 你好，`);
    expect(final.sentences.map((s) => s.start)).toEqual([400, 3800, 5800, 7400]);
    expect(streamer.stats.decodes).toBe(5);
    streamer.close();
  }, 600_000);

  it("spends no decode on silence, and the next utterance's times continue the stream's", async () => {
    const streamer = model.stream({});
    const { partials } = record(streamer);
    await feed(streamer, new Float32Array(16_000 * 5));
    expect(await streamer.end()).toEqual({ text: "", sentences: [], language: undefined, startMs: 0, endMs: 5000 });
    expect(streamer.stats).toMatchObject({ decodes: 0, audioMs: 5000 });
    expect(partials).toEqual([]);
    streamer.writePcm16(float32ToPcm16(makeAudio(2)));
    await streamer.idle();
    expect(partials[partials.length - 1]).toMatchObject({ text: HELLO, endMs: 7000 });
    streamer.close();
  }, 600_000);

  it("offline (partials: false) decodes once, at end()", async () => {
    const streamer = model.stream({ partials: false });
    const { partials } = record(streamer);
    await feed(streamer, makeAudio(4));
    expect(streamer.stats.decodes).toBe(0);
    expect((await streamer.end()).text).toBe(`${HELLO} ${NIHAO}`);
    expect(streamer.stats.decodes).toBe(1);
    expect(partials).toEqual([]);
    streamer.close();
  }, 600_000);

  it("close() aborts the running decode and emits nothing more", async () => {
    const streamer = model.stream({});
    const { partials, finals } = record(streamer);
    streamer.write(makeAudio(3));
    expect(model.active).toBe(1);
    streamer.close();
    await streamer.idle();
    expect(model.active).toBe(0);
    expect(partials).toEqual([]);
    expect(finals).toEqual([]);
    expect(() => streamer.write(makeAudio(1))).toThrow(/The stream is closed/);
  }, 600_000);

  it("runs several streams on one model, each with its own exact result", async () => {
    const streams = [model.stream({}), model.stream({}), model.stream({})];
    const audio = makeAudio(2);
    await Promise.all(streams.map((s) => feed(s, audio, 32_000)));
    const finals = await Promise.all(streams.map((s) => s.end()));
    for (const f of finals) expect(f.text).toBe(HELLO);
    for (const s of streams) s.close();
  }, 600_000);

  it("checks its options and its input", () => {
    expect(() => model.stream({ stepMs: 10 })).toThrow(new RangeError("Expected an integer between 100 and 30000 for stepMs but received 10"));
    expect(() => model.stream({ trimAfterMs: 20_000, maxBufferMs: 10_000 })).toThrow(/trimAfterMs \(20000\) to be at most maxBufferMs/);
    expect(() => model.stream({ language: "xx" })).toThrow(RangeError);
    expect(() => model.stream({ bogus: 1 } as never)).toThrow(/Unknown option "bogus" for stream\(\)/);
    const streamer = model.stream({ maxUtteranceMs: 1000 });
    expect(() => streamer.writePcm16(new Uint8Array(3))).toThrow(/even number of bytes/);
    expect(() => streamer.write(Float32Array.of(0, Number.NaN))).toThrow(/finite sample values/);
    expect(() => streamer.write(new Float32Array(16_001))).toThrow(/longer than maxUtteranceMs \(1000 ms\)/);
    streamer.close();
  });
});
