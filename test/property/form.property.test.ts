// Property-based tests of the multipart/route input validation: the form field parsers on their
// own (many runs, cheap), then whole random forms against a real server on 127.0.0.1, where every
// answer must be the one an oracle predicts: 200 with the script's transcript, or a 4xx whose JSON
// `detail` names a field that really was bad. Never a 5xx, never a silent default.
import fc from "fast-check";
import { z } from "zod";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ASR_OPTION_SECTIONS, asrOptionsField } from "../../lib/server/asr-options.js";
import { boolField, numberField } from "../../lib/server/multipart.js";
import { form, NOT_WAV, postForm, SCRIPT_TEXT, startTestServer, wavFile } from "../server/helpers.js";
import type { TestServer } from "../server/helpers.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const WORDS = { true: ["true", "1", "yes", "on"], false: ["false", "0", "no", "off"] };

/** Mixed case and surrounding whitespace, which the parsers must ignore. */
const spelled = (word: string) =>
  fc.tuple(fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }), fc.constantFrom("", " ", "\t", "  \n")).map(([upper, pad]) =>
    pad + [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c)).join("") + pad,
  );
const boolText = fc.oneof(
  fc.constantFrom(...WORDS.true, ...WORDS.false).chain(spelled),
  fc.string({ maxLength: 8 }),
  fc.string({ unit: "binary", maxLength: 8 }),
);

/** The oracle for boolean fields: undefined = invalid. */
function expectedBool(text: string, fallback: boolean): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (word === "") return fallback;
  if (WORDS.true.includes(word)) return true;
  if (WORDS.false.includes(word)) return false;
  return undefined;
}

const jsonValue = fc.jsonValue({ maxDepth: 2 });
/** asr_options texts: valid objects of TingWu's sections, near misses, and junk. */
const asrOptionsText = fc.oneof(
  fc.dictionary(fc.constantFrom(...ASR_OPTION_SECTIONS), fc.oneof(fc.constant(null), fc.dictionary(fc.string({ maxLength: 6 }), jsonValue, { maxKeys: 3 })), { maxKeys: 4 }).map((o) => JSON.stringify(o)),
  fc.record({ backend: fc.record({ beam_size: fc.integer({ min: -3, max: 20 }), temperature: fc.double({ min: -1, max: 2, noNaN: true }) }, { requiredKeys: [] }) }).map((o) => JSON.stringify(o)),
  fc.dictionary(fc.string({ maxLength: 8 }), jsonValue, { maxKeys: 3 }).map((o) => JSON.stringify(o)),
  jsonValue.map((v) => JSON.stringify(v)),
  fc.string({ maxLength: 30 }),
);

/** The oracle for asr_options: does the text pass? (Independent of the parser's code.) */
function asrOptionsValid(text: string): boolean | "unknown" {
  if (text.trim() === "") return true;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return false;
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return false;
  for (const [key, value] of Object.entries(parsed)) {
    if (!(ASR_OPTION_SECTIONS as readonly string[]).includes(key)) return false;
    if (value !== null && (typeof value !== "object" || Array.isArray(value))) return false;
  }
  const backend = ((parsed as Record<string, unknown>).backend ?? {}) as Record<string, unknown>;
  const { beam_size: beam, temperature: t } = backend;
  if (beam !== undefined && !(typeof beam === "number" && Number.isInteger(beam) && beam >= 1 && beam <= 8)) return false;
  if (t !== undefined && !(typeof t === "number" && t >= 0 && t <= 1)) return false;
  // Keys the generators above can produce by chance and that the parser checks too.
  for (const key of ["language", "task", "best_of", "initial_prompt", "condition_on_previous_text", "no_speech_threshold"]) {
    if (key in backend) return "unknown";
  }
  return true;
}

describe("form field parsers (property)", () => {
  it("boolField accepts exactly true/false, 1/0, yes/no, on/off in any case and spacing", () => {
    const field = boolField(false, "b");
    fc.assert(
      fc.property(boolText, fc.boolean(), (text, fallback) => {
        const result = boolField(fallback, "b").safeParse(text);
        const expected = expectedBool(text, fallback);
        if (expected === undefined) {
          expect(result.success).toBe(false);
          expect(result.error?.issues[0]?.message).toBe(`expected true/false, 1/0, yes/no or on/off but received ${JSON.stringify(text)}`);
        } else {
          expect(result).toEqual({ success: true, data: expected });
        }
      }),
      { numRuns: RUNS },
    );
    expect(field.parse(undefined)).toBe(false);
  });

  it("numberField gives the number when it is finite and in range, an issue naming the value otherwise", () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double().map(String), fc.integer({ min: -5, max: 20 }).map(String), fc.string({ maxLength: 6 })),
        fc.boolean(),
        (text, integer) => {
          const result = numberField(1, 10, "n", integer).safeParse(text);
          if (text.trim() === "") {
            expect(result).toEqual({ success: true, data: undefined });
            return;
          }
          const n = Number(text.trim());
          if (Number.isFinite(n) && n >= 1 && n <= 10 && (!integer || Number.isInteger(n))) {
            expect(result).toEqual({ success: true, data: n });
          } else {
            expect(result.success).toBe(false);
            expect(result.error?.issues[0]?.message).toContain(JSON.stringify(text));
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("asr_options passes exactly the texts the oracle accepts, and every refusal names asr_options", () => {
    fc.assert(
      fc.property(asrOptionsText, (text) => {
        const valid = asrOptionsValid(text);
        const result = asrOptionsField.safeParse(text);
        if (valid === "unknown") return; // a generated key the oracle doesn't model
        expect(result.success).toBe(valid);
        if (!result.success) expect(z.prettifyError(result.error)).toContain("asr_options");
      }),
      { numRuns: RUNS },
    );
  });
});

describe("POST /api/v1/transcribe with random forms (property)", () => {
  let server: TestServer;
  const wav = wavFile();
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers what the oracle predicts: the transcript, or a 4xx {detail} naming a bad field", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record(
          {
            file: fc.oneof(fc.constant(wav), fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b))),
            with_speaker: boolText,
            apply_hotword: boolText,
            hotwords: fc.string({ maxLength: 40 }),
            asr_options: asrOptionsText,
          },
          { requiredKeys: [] },
        ),
        async (fields) => {
          const bad: string[] = [];
          if (fields.file === undefined) bad.push("file");
          if (fields.with_speaker !== undefined && expectedBool(fields.with_speaker, false) === undefined) bad.push("with_speaker");
          if (fields.apply_hotword !== undefined && expectedBool(fields.apply_hotword, true) === undefined) bad.push("apply_hotword");
          const options = fields.asr_options === undefined ? true : asrOptionsValid(fields.asr_options);
          if (options === "unknown") return;
          if (!options) bad.push("asr_options");

          const res = await postForm(`${server.base}/api/v1/transcribe`, form(fields as Record<string, string | Buffer>));
          const body = (await res.json()) as { detail?: string; text?: string; code?: number };
          if (bad.length > 0) {
            expect(res.status).toBe(400);
            expect(Object.keys(body)).toEqual(["detail"]);
            expect(bad.some((name) => body.detail!.includes(name)), `${body.detail} names none of ${bad.join(", ")}`).toBe(true);
          } else if (fields.file !== wav) {
            // Random bytes: WAV-looking garbage is a 400 either way; the rest depends on ffmpeg.
            expect([400, NOT_WAV.status]).toContain(res.status);
            expect(Object.keys(body)).toEqual(["detail"]);
          } else {
            expect(res.status, body.detail).toBe(200);
            expect(body.code).toBe(0);
            expect(body.text).toBe(SCRIPT_TEXT);
          }
        },
      ),
      { numRuns: Number(process.env.FUZZ_HTTP_RUNS ?? 60) },
    );
  }, 300_000);
});
