// TingWu's `asr_options` form field: a JSON object whose top-level keys TingWu knows. Only
// `backend` changes anything here (whisper decoding options); the other sections belong to
// TingWu's pipeline stages this service doesn't have, and are accepted and ignored.
import { z } from "zod";
import { CHINESE_SCRIPTS } from "../chinese/index.js";
import { normalizeLanguage } from "../languages.js";
import { MAX_DECODERS } from "../options.js";
import type { WhisperCallOptions } from "../backends/whisper.js";
import { checkFieldLength } from "../limits.js";
import { tooLongIssue } from "./multipart.js";
import { vadFromFasterWhisper } from "../vad/options.js";

export const ASR_OPTION_SECTIONS = ["preprocess", "chunking", "backend", "postprocess", "speaker", "debug"] as const;

const section = z.union([z.record(z.string(), z.unknown()), z.null()]);

// Keys of `asr_options.backend` that map to whisper; other keys (meant for TingWu's other backends) are ignored.
const backendSection = z.looseObject({
  language: z.string().optional(),
  task: z.enum(["transcribe", "translate"]).optional(),
  temperature: z.number().min(0).max(1).optional(),
  beam_size: z.number().int().min(1).max(MAX_DECODERS).optional(),
  best_of: z.number().int().min(1).max(MAX_DECODERS).optional(),
  initial_prompt: z.string().optional(),
  condition_on_previous_text: z.boolean().optional(),
  no_speech_threshold: z.number().min(0).max(1).optional(),
  chinese_script: z.enum(CHINESE_SCRIPTS).optional(),
  chinese_punctuation: z.boolean().optional(),
  // faster-whisper's names: Silero VAD on/off and its parameters.
  vad_filter: z.boolean().optional(),
  vad_parameters: z.record(z.string(), z.unknown()).optional(),
});

export type AsrOptions = { backend: WhisperCallOptions };

/** Parses the field; every problem is reported as an issue that names `asr_options`. */
export const asrOptionsField = z
  .string({ error: "asr_options must be a single JSON text" })
  .optional()
  .transform((text, ctx): AsrOptions => {
    if (text === undefined || text.trim() === "") return { backend: {} };
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `asr_options is not valid JSON: ${(error as Error).message}` });
      return z.NEVER;
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
      ctx.addIssue({ code: "custom", message: `asr_options must be a JSON object but received ${Array.isArray(parsed) ? "an array" : parsed === null ? "null" : typeof parsed}` });
      return z.NEVER;
    }
    const unknown = Object.keys(parsed).filter((key) => !(ASR_OPTION_SECTIONS as readonly string[]).includes(key));
    if (unknown.length > 0) {
      ctx.addIssue({ code: "custom", message: `asr_options has unknown key(s) ${unknown.map((k) => JSON.stringify(k)).join(", ")}; allowed: ${ASR_OPTION_SECTIONS.join(", ")}` });
      return z.NEVER;
    }
    for (const [key, value] of Object.entries(parsed)) {
      if (!section.safeParse(value).success) {
        ctx.addIssue({ code: "custom", message: `asr_options.${key} must be a JSON object` });
        return z.NEVER;
      }
    }
    const backend = backendSection.safeParse((parsed as Record<string, unknown>).backend ?? {});
    if (!backend.success) {
      const issue = backend.error.issues[0]!;
      ctx.addIssue({ code: "custom", message: `asr_options.backend.${issue.path.join(".")}: ${issue.message}` });
      return z.NEVER;
    }
    const b = backend.data;
    const tooLong = checkFieldLength("asr_options.backend.initial_prompt", "prompt", b.initial_prompt);
    if (tooLong) {
      ctx.addIssue(tooLongIssue(tooLong));
      return z.NEVER;
    }
    const options: WhisperCallOptions = {};
    if (b.language !== undefined) {
      try {
        options.language = normalizeLanguage(b.language, "asr_options.backend.language");
      } catch (error) {
        ctx.addIssue({ code: "custom", message: (error as Error).message });
        return z.NEVER;
      }
    }
    if (b.task !== undefined) options.translate = b.task === "translate";
    if (b.temperature !== undefined) options.temperature = b.temperature;
    if (b.beam_size !== undefined) options.beamSize = b.beam_size;
    if (b.best_of !== undefined) options.bestOf = b.best_of;
    if (b.initial_prompt !== undefined) options.initialPrompt = b.initial_prompt;
    if (b.condition_on_previous_text !== undefined) options.noContext = !b.condition_on_previous_text;
    if (b.no_speech_threshold !== undefined) options.noSpeechThreshold = b.no_speech_threshold;
    if (b.chinese_script !== undefined) options.chineseScript = b.chinese_script;
    if (b.chinese_punctuation !== undefined) options.chinesePunctuation = b.chinese_punctuation;
    try {
      const vad = vadFromFasterWhisper(b.vad_filter, b.vad_parameters, "asr_options.backend");
      if (vad !== undefined) options.vad = vad;
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
    return { backend: options };
  })
  .meta({
    description: `JSON object with TingWu's sections (${ASR_OPTION_SECTIONS.join(", ")}). Only "backend" is used: language, task, temperature, beam_size, best_of, initial_prompt, condition_on_previous_text, no_speech_threshold, chinese_script (${CHINESE_SCRIPTS.join("|")}), chinese_punctuation, vad_filter (Silero VAD: decode only speech, chunks decoded in parallel), vad_parameters ({threshold, min_speech_duration_ms, min_silence_duration_ms, max_speech_duration_s, speech_pad_ms}).`,
  });
