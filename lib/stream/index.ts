export { Streamer } from "./streamer.js";
export type { StreamDecoder, StreamFinal, StreamOptions, StreamPartial, StreamSentence, StreamStats, Word } from "./streamer.js";
export { LocalAgreement } from "./agreement.js";
export { EnergyGate } from "./energy.js";
