// Speech probabilities -> speech segments: Silero's get_speech_timestamps as whisper.cpp v1.9.1
// implements it (whisper_vad_segments_from_probs), kept in TypeScript so chunking policy has one
// owner. Positions are in samples at 16 kHz.
import { WHISPER_SAMPLE_RATE } from "../audio/pcm.js";

/** Segmentation parameters, already validated (see lib/vad/options.ts). */
export interface SegmentationParams {
  threshold: number;
  minSpeechMs: number;
  minSilenceMs: number;
  maxSpeechS: number;
  speechPadMs: number;
}

/** A stretch of speech, in samples: [start, end). */
export interface SampleRange {
  start: number;
  end: number;
}

/** Speech segments from per-window probabilities (`windowSamples` samples each). */
export function speechSegments(probs: ArrayLike<number>, windowSamples: number, p: SegmentationParams): SampleRange[] {
  const nProbs = probs.length;
  const minSilence = Math.floor((WHISPER_SAMPLE_RATE * p.minSilenceMs) / 1000);
  const audioLength = nProbs * windowSamples;
  const minSpeech = Math.floor((WHISPER_SAMPLE_RATE * p.minSpeechMs) / 1000);
  const pad = Math.floor((WHISPER_SAMPLE_RATE * p.speechPadMs) / 1000);
  const capped = WHISPER_SAMPLE_RATE * Math.trunc(p.maxSpeechS) - windowSamples - 2 * pad;
  const maxSpeech = p.maxSpeechS > 100_000 || !(capped >= 0) ? Number.MAX_SAFE_INTEGER : capped;
  // A silence longer than this (98 ms, from silero-vad) marks where an over-long segment may be cut.
  const minSilenceAtMax = Math.floor((WHISPER_SAMPLE_RATE * 98) / 1000);
  const negThreshold = Math.max(p.threshold - 0.15, 0.01);

  const speeches: SampleRange[] = [];
  let inSpeech = false;
  let tempEnd = 0;
  let prevEnd = 0;
  let nextStart = 0;
  let currStart = 0;
  let hasCurr = false;

  for (let i = 0; i < nProbs; i++) {
    const prob = probs[i]!;
    const sample = windowSamples * i;
    if (prob >= p.threshold && tempEnd) {
      tempEnd = 0;
      if (nextStart < prevEnd) nextStart = sample;
    }
    if (prob >= p.threshold && !inSpeech) {
      inSpeech = true;
      currStart = sample;
      hasCurr = true;
      continue;
    }
    if (inSpeech && sample - currStart > maxSpeech) {
      if (prevEnd) {
        speeches.push({ start: currStart, end: prevEnd });
        hasCurr = true;
        if (nextStart < prevEnd) {
          inSpeech = false;
          hasCurr = false;
        } else {
          currStart = nextStart;
        }
        prevEnd = nextStart = tempEnd = 0;
      } else {
        speeches.push({ start: currStart, end: sample });
        prevEnd = nextStart = tempEnd = 0;
        inSpeech = false;
        hasCurr = false;
        continue;
      }
    }
    if (prob < negThreshold && inSpeech) {
      if (!tempEnd) tempEnd = sample;
      if (sample - tempEnd > minSilenceAtMax) prevEnd = tempEnd;
      if (sample - tempEnd < minSilence) continue;
      if (tempEnd - currStart > minSpeech) speeches.push({ start: currStart, end: tempEnd });
      prevEnd = nextStart = tempEnd = 0;
      inSpeech = false;
      hasCurr = false;
    }
  }
  if (hasCurr && audioLength - currStart > minSpeech) speeches.push({ start: currStart, end: audioLength });

  // Merge segments less than 200 ms apart, then drop the ones still too short. Unlike whisper.cpp,
  // a merge never undoes a maxSpeechS cut (there, continuous speech comes back as one segment).
  const maxMergeGap = Math.floor((WHISPER_SAMPLE_RATE * 200) / 1000);
  const mergedLimit = p.maxSpeechS > 100_000 ? Number.MAX_SAFE_INTEGER : WHISPER_SAMPLE_RATE * p.maxSpeechS;
  for (let i = 0; i < speeches.length - 1; i++) {
    if (speeches[i + 1]!.start - speeches[i]!.end < maxMergeGap && speeches[i + 1]!.end - speeches[i]!.start <= mergedLimit) {
      speeches[i]!.end = speeches[i + 1]!.end;
      speeches.splice(i + 1, 1);
      i--;
    }
  }
  const kept = speeches.filter((s) => s.end - s.start >= minSpeech);

  // Padding: split the gap when two segments are closer than two pads.
  for (let i = 0; i < kept.length; i++) {
    const s = kept[i]!;
    if (i === 0) s.start = Math.max(0, s.start - pad);
    const next = kept[i + 1];
    if (next) {
      const gap = next.start - s.end;
      if (gap < 2 * pad) {
        s.end += Math.floor(gap / 2);
        next.start = Math.max(0, next.start - Math.floor(gap / 2));
      } else {
        s.end = Math.min(audioLength, s.end + pad);
        next.start = Math.max(0, next.start - pad);
      }
    } else {
      s.end = Math.min(audioLength, s.end + pad);
    }
  }
  return kept;
}
