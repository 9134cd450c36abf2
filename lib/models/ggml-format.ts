// The legacy ggml model format that whisper.cpp v1.9.1 loads: tables and checks (ggml/format.ts),
// the streaming writer (ggml/writer.ts) and the header inspector (ggml/inspect.ts).
export * from "./ggml/format.js";
export * from "./ggml/writer.js";
export * from "./ggml/inspect.js";
