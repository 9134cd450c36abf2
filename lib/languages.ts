// The one owner of language policy: whisper.cpp's language table, how a language given as text
// becomes a code (once, where it enters: an env variable, an HTTP field, a CLI flag, a public
// function), and what an omitted language means in each place it can be omitted.
import { describe } from "./util/describe.js";

/** A whisper.cpp language code (`"zh"`), or `"auto"` to detect. */
export type Language = string;

/** Detect the language (whisper.cpp's language id pass). */
export const AUTO_LANGUAGE = "auto";

/**
 * What an omitted language means, by where it was omitted:
 * - `settings`: WHISPER_LANGUAGE unset: `zh`, TingWu's default (the service's configured language);
 * - `settingsEmpty`: WHISPER_LANGUAGE set but empty: detect, as TingWu does;
 * - `request`: a whisper-asr-webservice or OpenAI request without `language`: detect, as those APIs
 *   do (TingWu's routes instead take the configured language: the backend's default);
 * - `cli`: `transcribe` without `--language` and without WHISPER_LANGUAGE: detect;
 * - `library`: `Whisper#transcribe` without `language`: detect.
 */
export const LANGUAGE_WHEN_OMITTED = {
  settings: "zh",
  settingsEmpty: AUTO_LANGUAGE,
  request: AUTO_LANGUAGE,
  cli: AUTO_LANGUAGE,
  library: AUTO_LANGUAGE,
} as const satisfies Record<string, Language>;

/** The backend's and the service's default language when none is configured. */
export const DEFAULT_LANGUAGE: Language = LANGUAGE_WHEN_OMITTED.settings;

// whisper.cpp v1.9.1 language table (code -> English name), in whisper.cpp's id order.
export const LANGUAGES: ReadonlyArray<readonly [code: string, name: string]> = [
  ["en", "english"],
  ["zh", "chinese"],
  ["de", "german"],
  ["es", "spanish"],
  ["ru", "russian"],
  ["ko", "korean"],
  ["fr", "french"],
  ["ja", "japanese"],
  ["pt", "portuguese"],
  ["tr", "turkish"],
  ["pl", "polish"],
  ["ca", "catalan"],
  ["nl", "dutch"],
  ["ar", "arabic"],
  ["sv", "swedish"],
  ["it", "italian"],
  ["id", "indonesian"],
  ["hi", "hindi"],
  ["fi", "finnish"],
  ["vi", "vietnamese"],
  ["he", "hebrew"],
  ["uk", "ukrainian"],
  ["el", "greek"],
  ["ms", "malay"],
  ["cs", "czech"],
  ["ro", "romanian"],
  ["da", "danish"],
  ["hu", "hungarian"],
  ["ta", "tamil"],
  ["no", "norwegian"],
  ["th", "thai"],
  ["ur", "urdu"],
  ["hr", "croatian"],
  ["bg", "bulgarian"],
  ["lt", "lithuanian"],
  ["la", "latin"],
  ["mi", "maori"],
  ["ml", "malayalam"],
  ["cy", "welsh"],
  ["sk", "slovak"],
  ["te", "telugu"],
  ["fa", "persian"],
  ["lv", "latvian"],
  ["bn", "bengali"],
  ["sr", "serbian"],
  ["az", "azerbaijani"],
  ["sl", "slovenian"],
  ["kn", "kannada"],
  ["et", "estonian"],
  ["mk", "macedonian"],
  ["br", "breton"],
  ["eu", "basque"],
  ["is", "icelandic"],
  ["hy", "armenian"],
  ["ne", "nepali"],
  ["mn", "mongolian"],
  ["bs", "bosnian"],
  ["kk", "kazakh"],
  ["sq", "albanian"],
  ["sw", "swahili"],
  ["gl", "galician"],
  ["mr", "marathi"],
  ["pa", "punjabi"],
  ["si", "sinhala"],
  ["km", "khmer"],
  ["sn", "shona"],
  ["yo", "yoruba"],
  ["so", "somali"],
  ["af", "afrikaans"],
  ["oc", "occitan"],
  ["ka", "georgian"],
  ["be", "belarusian"],
  ["tg", "tajik"],
  ["sd", "sindhi"],
  ["gu", "gujarati"],
  ["am", "amharic"],
  ["yi", "yiddish"],
  ["lo", "lao"],
  ["uz", "uzbek"],
  ["fo", "faroese"],
  ["ht", "haitian creole"],
  ["ps", "pashto"],
  ["tk", "turkmen"],
  ["nn", "nynorsk"],
  ["mt", "maltese"],
  ["sa", "sanskrit"],
  ["lb", "luxembourgish"],
  ["my", "myanmar"],
  ["bo", "tibetan"],
  ["tl", "tagalog"],
  ["mg", "malagasy"],
  ["as", "assamese"],
  ["tt", "tatar"],
  ["haw", "hawaiian"],
  ["ln", "lingala"],
  ["ha", "hausa"],
  ["ba", "bashkir"],
  ["jw", "javanese"],
  ["su", "sundanese"],
  ["yue", "cantonese"],
];

const LANGUAGE_CODES = new Map<string, string>();
for (const [code, name] of LANGUAGES) {
  LANGUAGE_CODES.set(code, code);
  LANGUAGE_CODES.set(name, code);
}

/**
 * A language given as text -> a whisper.cpp code, or "auto". Accepts codes and English names in
 * any case; empty and `auto` detect; undefined is {@link LANGUAGE_WHEN_OMITTED}`.library`.
 * Throws RangeError naming `option`.
 */
export function normalizeLanguage(language: string | undefined, option = "language"): Language {
  if (language === undefined) return LANGUAGE_WHEN_OMITTED.library;
  const key = typeof language === "string" ? language.trim().toLowerCase() : undefined;
  if (key === "" || key === AUTO_LANGUAGE) return AUTO_LANGUAGE;
  const code = key === undefined ? undefined : LANGUAGE_CODES.get(key);
  if (code === undefined) {
    throw new (typeof language === "string" ? RangeError : TypeError)(
      `Expected "auto" or a language whisper.cpp knows (a code such as en, zh, de, or an English name) for ${option} but received ${describe(language)}`,
    );
  }
  return code;
}

/** A request's language: the one given (already normalised where it entered), or {@link LANGUAGE_WHEN_OMITTED}`.request`. */
export function requestLanguage(language: Language | undefined): Language {
  return language ?? LANGUAGE_WHEN_OMITTED.request;
}

/** English name of a whisper language code ("zh" -> "chinese"). */
export function languageName(code: string): string | undefined {
  return LANGUAGES.find(([c]) => c === code)?.[1];
}
