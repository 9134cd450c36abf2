// A finished job's result in the format asked for, from the same renderers as the sync routes.
import { languageName } from "../languages.js";
import { toTingWu } from "../server/routes/tingwu.js";
import { toWhisperSegments, wordsOfSegment } from "../formats/whisper-json.js";
import { renderSubtitles } from "../formats/subtitles.js";
import type { JobResult, ResultFormat } from "./types.js";

/** `json`, `verbose_json` and `tingwu` give objects; the others give text. */
export function renderResult(result: JobResult, format: ResultFormat): unknown {
  switch (format) {
    case "text":
      return renderSubtitles(result.sentence_info, "txt");
    case "srt":
    case "vtt":
    case "tsv":
      return renderSubtitles(result.sentence_info, format);
    case "tingwu":
      return toTingWu(result);
    case "verbose_json": {
      const words = result.segments.some((s) => s.tokens?.some((t) => t.start >= 0));
      return {
        task: "transcribe",
        language: languageName(result.language) ?? result.language,
        duration: result.durationMs / 1000,
        text: result.text,
        segments: toWhisperSegments(result.segments, result.temperature),
        ...(words ? { words: result.segments.flatMap(wordsOfSegment).map(({ word, start, end }) => ({ word: word.trim(), start, end })) } : {}),
      };
    }
    default:
      return { text: result.text, language: result.language, duration: result.durationMs / 1000, sentences: result.sentence_info };
  }
}
