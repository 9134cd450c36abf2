// Property-based tests of the text side: hotword prompt builder and time formatters.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatTimestamp, toSrt, toTsv, toVtt } from "../../lib/formats/subtitles.js";
import { buildHotwordPrompt, HOTWORD_PROMPT_PREFIX, parseHotwordTerms } from "../../lib/tingwu/hotwords.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
// biome-ignore lint/suspicious/noControlCharactersInRegex: Python's line boundaries include \x1c-\x1e
const term = fc.string({ minLength: 1, maxLength: 12 }).filter((t) => t.trim() !== "" && !/[\r\n\v\f\u001c-\u001e\u0085\u2028\u2029]/.test(t));

describe("hotword prompt (property)", () => {
  it("lists at most 12 of at most 50 unique terms, in order, with the right (另有N个) suffix", () => {
    fc.assert(
      fc.property(fc.array(term, { maxLength: 80 }), (terms) => {
        const prompt = buildHotwordPrompt(terms.join("\n"));
        const unique = parseHotwordTerms(terms.join("\n"));
        if (unique.length === 0) {
          // Only the all-comments quirk can give a prompt without terms.
          if (prompt !== undefined) expect(prompt.trim().startsWith("#")).toBe(true);
          return;
        }
        expect(prompt!.startsWith(HOTWORD_PROMPT_PREFIX)).toBe(true);
        const used = unique.slice(0, 50);
        const suffix = used.length > 12 ? `（另有${used.length - 12}个）` : "";
        expect(prompt).toBe(`${HOTWORD_PROMPT_PREFIX}${used.slice(0, 12).join(", ")}${suffix}`);
      }),
      { numRuns: RUNS },
    );
  });

  it("never throws on arbitrary strings", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 500 }), (s) => {
        const p = buildHotwordPrompt(s);
        expect(p === undefined || typeof p === "string").toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("time formatters (property)", () => {
  const ms = fc.integer({ min: 0, max: 400 * 3_600_000 });
  const parse = (t: string) => {
    const m = /^(\d{2,}):(\d{2}):(\d{2})[.,](\d{3})$/.exec(t);
    expect(m).not.toBeNull();
    return ((Number(m![1]) * 60 + Number(m![2])) * 60 + Number(m![3])) * 1000 + Number(m![4]);
  };

  it("HH:MM:SS.mmm / HH:MM:SS,mmm parse back to the same integer ms", () => {
    fc.assert(
      fc.property(ms, fc.constantFrom("srt", "vtt", "hms") as fc.Arbitrary<"srt" | "vtt" | "hms">, (v, style) => {
        const t = formatTimestamp(v, style);
        expect(t.includes(style === "srt" ? "," : ".")).toBe(true);
        expect(parse(t)).toBe(v);
      }),
      { numRuns: RUNS },
    );
  });

  it("rejects negative or non-finite times with RangeError", () => {
    fc.assert(
      fc.property(fc.oneof(fc.double({ max: -1e-9, noNaN: true }), fc.constantFrom(Number.NaN, Infinity)), (v) => {
        expect(() => formatTimestamp(v)).toThrow(RangeError);
      }),
      { numRuns: RUNS },
    );
  });

  it("SRT, VTT and TSV keep one cue per sentence whatever the text", () => {
    const sentence = fc
      .record({ text: fc.string({ maxLength: 40 }), start: ms, len: fc.integer({ min: 0, max: 60_000 }) })
      .map(({ text, start, len }) => ({ text, start, end: start + len }));
    fc.assert(
      fc.property(fc.array(sentence, { maxLength: 20 }), (sentences) => {
        const srt = toSrt(sentences);
        expect((srt.match(/ --> /g) ?? []).length).toBe(sentences.length);
        const vtt = toVtt(sentences);
        expect(vtt.startsWith("WEBVTT")).toBe(true);
        expect((vtt.match(/ --> /g) ?? []).length).toBe(sentences.length);
        const tsvLines = toTsv(sentences).trimEnd().split("\n");
        expect(tsvLines[0]).toBe("start\tend\ttext");
        expect(tsvLines.length - 1).toBe(sentences.length);
        tsvLines.slice(1).forEach((line, i) => {
          const [start, end] = line.split("\t");
          expect(Number(start)).toBe(sentences[i]!.start);
          expect(Number(end)).toBe(sentences[i]!.end);
        });
      }),
      { numRuns: RUNS },
    );
  });
});
