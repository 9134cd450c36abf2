// The streaming policy without a model: words from tokens, LocalAgreement-2, the energy gate, the
// sample buffer, and who may open /ws/realtime.
import { describe, expect, it } from "vitest";
import { createKeyChecker, originAllowed, presentedKey } from "../../lib/server/realtime/access.js";
import { parseClientMessage, resultMode } from "../../lib/server/realtime/protocol.js";
import { LocalAgreement } from "../../lib/stream/agreement.js";
import { EnergyGate, GATE_FRAME } from "../../lib/stream/energy.js";
import { SampleBuffer } from "../../lib/stream/samples.js";
import { sentencesOf, wordsOf } from "../../lib/stream/words.js";
import type { Word } from "../../lib/stream/words.js";
import type { Segment } from "../../lib/whisper.js";

const tok = (text: string, start: number, end: number, special = false) => ({ id: 0, text, p: 1, start, end, special });
const words = (...spec: [string, number, number][]): Word[] => spec.map(([text, start, end]) => ({ text, start, end, segmentEnd: false }));

describe("wordsOf", () => {
  it("groups sub-word tokens and punctuation, splits unspaced scripts per character, and shifts times", () => {
    const segments: Segment[] = [
      { start: 0, end: 1000, text: " Hello TingWu.", noSpeechProb: 0, tokens: [tok("[_BEG_]", 0, 0, true), tok(" Hello", 0, 300), tok(" Ting", 300, 500), tok("Wu", 500, 700), tok(".", 700, 800)] },
      { start: 1000, end: 2000, text: " 你好，世界。", noSpeechProb: 0, tokens: [tok(" ", 1000, 1000), tok("你", 1000, 1200), tok("好", 1200, 1400), tok("，", 1400, 1500), tok("世界", 1500, 1800), tok("。", 1800, 2000)] },
    ];
    expect(wordsOf(segments, 5000)).toEqual([
      { text: " Hello", start: 5000, end: 5300, segmentEnd: false },
      { text: " TingWu.", start: 5300, end: 5800, segmentEnd: true },
      { text: " 你", start: 6000, end: 6200, segmentEnd: false },
      { text: "好，", start: 6200, end: 6500, segmentEnd: false },
      { text: "世界。", start: 6500, end: 7000, segmentEnd: true },
    ]);
    expect(sentencesOf(wordsOf(segments, 0))).toEqual([
      { text: "Hello TingWu.", start: 0, end: 800 },
      { text: "你好，世界。", start: 1000, end: 2000 },
    ]);
  });
});

describe("LocalAgreement", () => {
  it("confirms the common prefix of two consecutive hypotheses, ignoring case and punctuation", () => {
    const agreement = new LocalAgreement();
    expect(agreement.insert(words([" the", 0, 200], [" cat", 200, 400]))).toEqual([]);
    expect(agreement.insert(words([" The", 0, 210], [" cat,", 200, 420], [" sat", 420, 600]))).toEqual(words([" The", 0, 210], [" cat,", 200, 420]));
    expect(agreement.pending).toEqual(words([" sat", 420, 600]));
    // Already confirmed words come back (same or shifted times): they are not confirmed again.
    expect(agreement.insert(words([" The", 0, 200], [" cat", 190, 400], [" sat", 430, 600], [" down", 600, 800]))).toEqual(words([" sat", 430, 600]));
    expect(agreement.confirmed.map((w) => w.text).join("")).toBe(" The cat, sat");
  });

  it("never changes a confirmed word, whatever later hypotheses say", () => {
    const agreement = new LocalAgreement();
    const hypotheses = [
      words([" a", 0, 100], [" b", 100, 200]),
      words([" a", 0, 100], [" b", 100, 200], [" c", 200, 300]),
      words([" x", 0, 100], [" y", 100, 200], [" c", 200, 300]),
      words([" c", 200, 300], [" d", 300, 400]),
      words([" d", 300, 400], [" e", 400, 500]),
    ];
    let previous = "";
    for (const h of hypotheses) {
      agreement.insert(h);
      const stable = agreement.confirmed.map((w) => w.text).join("");
      expect(stable.startsWith(previous)).toBe(true);
      previous = stable;
    }
    expect(previous).toBe(" a b c d");
  });
});

describe("EnergyGate and SampleBuffer", () => {
  it("marks the end of the last voiced 20 ms frame across chunk boundaries", () => {
    const gate = new EnergyGate(0.01);
    gate.push(new Float32Array(GATE_FRAME * 2));
    expect(gate.lastVoice).toBe(Number.NEGATIVE_INFINITY);
    const loud = new Float32Array(GATE_FRAME).fill(0.1);
    gate.push(loud.subarray(0, 100));
    gate.push(loud.subarray(100));
    gate.push(new Float32Array(GATE_FRAME * 3));
    expect(gate.lastVoice).toBe(GATE_FRAME * 3);
  });

  it("appends, drops at the front by absolute index, and pads copies", () => {
    const buffer = new SampleBuffer(100);
    for (let i = 0; i < 50; i++) buffer.append(Float32Array.from({ length: 10_000 }, (_, k) => i * 10_000 + k));
    buffer.dropBefore(100 + 499_990);
    expect([buffer.start, buffer.end, buffer.length]).toEqual([500_090, 500_100, 10]);
    buffer.append(Float32Array.of(-1));
    expect(Array.from(buffer.copy(13))).toEqual([499_990, 499_991, 499_992, 499_993, 499_994, 499_995, 499_996, 499_997, 499_998, 499_999, -1, 0, 0]);
  });
});

describe("/ws/realtime access and protocol", () => {
  it("finds the key in the query, a Bearer header or X-API-Key, and checks it with the HTTP routes' checker", () => {
    const q = (s: string) => new URLSearchParams(s);
    expect(presentedKey({}, q("api_key=a"))).toBe("a");
    expect(presentedKey({ authorization: "Bearer  b " }, q(""))).toBe("b");
    expect(presentedKey({ "x-api-key": "c" }, q(""))).toBe("c");
    expect(presentedKey({ authorization: "Basic xyz" }, q(""))).toBeUndefined();
    expect(presentedKey({ "x-api-key": "c" }, q("api_key=a"))).toBe("a");
    expect(createKeyChecker([])(undefined)).toBe(true);
    expect(createKeyChecker(["k1", "k2"])("k2")).toBe(true);
    expect(createKeyChecker(["k1", "k2"])("k3")).toBe(false);
    expect(createKeyChecker(["k1"])(undefined)).toBe(false);
  });

  it("allows no Origin (not a browser), any with *, and listed origins only", () => {
    expect(originAllowed(["https://a.example"], undefined)).toBe(true);
    expect(originAllowed("*", "https://x.example")).toBe(true);
    expect(originAllowed(["https://a.example"], "HTTPS://A.example")).toBe(true);
    expect(originAllowed(["https://a.example"], "https://b.example")).toBe(false);
  });

  it("reads TingWu's config message and names its modes as TingWu does", () => {
    expect(parseClientMessage('{"is_speaking":true,"mode":"2pass","hotwords":"a b","chunk_interval":10}')).toEqual({
      kind: "config", isSpeaking: true, mode: "2pass", hotwords: "a b", chunkInterval: 10,
    });
    expect(parseClientMessage('{"type":"pong"}')).toEqual({ kind: "pong" });
    expect(() => parseClientMessage('{"chunk_interval":0}')).toThrow(/positive integer for chunk_interval/);
    expect([resultMode("2pass", false), resultMode("2pass", true), resultMode("online", false), resultMode("offline", true)]).toEqual(["2pass-online", "2pass-offline", "online", "offline"]);
  });
});
