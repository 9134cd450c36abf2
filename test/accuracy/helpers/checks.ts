// Assertions and reporting shared by the accuracy tests.
import { expect } from "vitest";
import type { Segment, TranscribeResult } from "../../../lib/whisper.js";
import { clampSegments } from "../../../lib/whisper.js";
import type { CliResult } from "./whisper-cli.js";

/** Prints a measured figure in the test log (the accuracy run is also a report). */
export function report(what: string, figures: Record<string, unknown>): void {
  const shown = Object.entries(figures).map(([k, v]) => `${k}=${typeof v === "number" && k === "ms" ? `${Math.round(v)}` : JSON.stringify(v)}`);
  console.log(`[accuracy] ${what}: ${shown.join(" ")}`);
}

/** Segments exist, each lies inside [0, audio], and they follow each other without going back. */
export function expectSegmentsInside(segments: Pick<Segment, "start" | "end" | "text">[], audioMs: number): void {
  expect(segments.length).toBeGreaterThan(0);
  let previousEnd = 0;
  for (const s of segments) {
    expect(s.start, JSON.stringify(s)).toBeGreaterThanOrEqual(previousEnd);
    expect(s.end, JSON.stringify(s)).toBeGreaterThanOrEqual(s.start);
    expect(s.end, JSON.stringify(s)).toBeLessThanOrEqual(audioMs);
    previousEnd = s.end;
  }
}

/** The addon's segments equal whisper-cli's: same language, texts and millisecond bounds. */
export function expectSameAsCli(addon: TranscribeResult, cli: CliResult, audioMs: number): void {
  // The addon's own bounds policy, applied to whisper-cli's raw numbers so both compare on the same terms.
  const clamped = clampSegments(cli.segments.map(({ start, end, text }) => ({ start, end, text })), 0, audioMs);
  const changed = clamped.filter((s, i) => s.start !== cli.segments[i]!.start || s.end !== cli.segments[i]!.end);
  if (changed.length > 0) report("whisper-cli segments clamped to the audio like the addon does", { raw: cli.segments, clamped });
  expect(addon.language).toBe(cli.language);
  expect(addon.segments.map(({ start, end, text }) => ({ start, end, text }))).toEqual(clamped);
}
