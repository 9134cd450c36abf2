import { describe, expect, it } from "vitest";
import { formatBytes, formatDuration, formatProgress } from "../../lib/models/progress.js";
import { formatTimestamp, toSrt, toTsv, toTxt, toVtt } from "../../lib/formats/subtitles.js";

const sentences = [
  { text: "你好，世界。", start: 0, end: 1500 },
  { text: "Arrow --> here", start: 1500, end: 3_723_004 },
];

describe("formatTimestamp", () => {
  it("formats each style", () => {
    expect(formatTimestamp(3_723_004, "srt")).toBe("01:02:03,004");
    expect(formatTimestamp(3_723_004, "vtt")).toBe("01:02:03.004");
    expect(formatTimestamp(3_723_004, "hms")).toBe("01:02:03.004");
    expect(formatTimestamp(0)).toBe("00:00:00.000");
    expect(formatTimestamp(59_999, "srt")).toBe("00:00:59,999");
  });

  it("rounds fractional ms and carries into the next unit", () => {
    expect(formatTimestamp(59_999.6, "hms")).toBe("00:01:00.000");
    expect(formatTimestamp(1.4, "hms")).toBe("00:00:00.001");
  });

  it("lets hours grow past 99", () => {
    expect(formatTimestamp(100 * 3_600_000 + 1, "srt")).toBe("100:00:00,001");
  });

  it("rejects negative, non-finite and non-number input and unknown styles", () => {
    expect(() => formatTimestamp(-1)).toThrow(RangeError);
    expect(() => formatTimestamp(Number.POSITIVE_INFINITY)).toThrow(RangeError);
    expect(() => formatTimestamp("1" as never)).toThrow(TypeError);
    expect(() => formatTimestamp(1, "ass" as never)).toThrow(/style/);
  });
});

describe("renderers", () => {
  it("renders SRT", () => {
    expect(toSrt(sentences)).toBe("1\n00:00:00,000 --> 00:00:01,500\n你好，世界。\n\n2\n00:00:01,500 --> 01:02:03,004\nArrow -> here\n\n");
  });

  it("renders WebVTT", () => {
    expect(toVtt(sentences)).toBe("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\n你好，世界。\n\n00:00:01.500 --> 01:02:03.004\nArrow -> here\n\n");
  });

  it("renders TSV with integer ms and no tabs inside text", () => {
    expect(toTsv([...sentences, { text: "a\tb\nc", start: 10.6, end: 20 }])).toBe(
      "start\tend\ttext\n0\t1500\t你好，世界。\n1500\t3723004\tArrow --> here\n11\t20\ta b c\n",
    );
  });

  it("renders text one sentence per line", () => {
    expect(toTxt(sentences)).toBe("你好，世界。\nArrow --> here\n");
  });

  it("keeps cue text free of blank lines", () => {
    expect(toSrt([{ text: "one\n\ntwo", start: 0, end: 1 }])).toBe("1\n00:00:00,000 --> 00:00:00,001\none\ntwo\n\n");
  });

  it("renders empty input", () => {
    expect(toSrt([])).toBe("");
    expect(toVtt([])).toBe("WEBVTT\n\n");
    expect(toTsv([])).toBe("start\tend\ttext\n");
    expect(toTxt([])).toBe("");
  });

  it("rejects bad sentences naming the index", () => {
    expect(() => toSrt([{ text: "a", start: -5, end: 1 }])).toThrow(/sentences\[0\]\.start/);
  });
});

describe("progress text", () => {
  it("formats sizes and durations", () => {
    expect(formatBytes(512)).toBe("512 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.00 GiB");
    expect(formatBytes(150 * 1024 ** 2)).toBe("150 MiB");
    expect(formatDuration(7)).toBe("7s");
    expect(formatDuration(65)).toBe("1m05s");
    expect(formatDuration(3725)).toBe("1h02m05s");
    expect(formatDuration(undefined)).toBe("--");
  });

  it("draws a bar with percent, bytes, rate and ETA", () => {
    const line = formatProgress({ receivedBytes: 512 * 1024 ** 2, totalBytes: 1024 ** 3, bytesPerSecond: 10 * 1024 ** 2, etaSeconds: 51.2 }, { width: 10 });
    expect(line).toBe("[=====>    ]  50.0%  512 MiB / 1.00 GiB  10.0 MiB/s  ETA 51s");
    expect(formatProgress({ receivedBytes: 1024 ** 3, totalBytes: 1024 ** 3, bytesPerSecond: 0, etaSeconds: 0 }, { width: 4 })).toBe(
      "[====] 100.0%  1.00 GiB / 1.00 GiB  0 B/s  ETA 0s",
    );
  });

  it("shows bytes and rate without a total", () => {
    expect(formatProgress({ receivedBytes: 2048, bytesPerSecond: 1024 })).toBe("2.00 KiB  1.00 KiB/s");
  });
});
