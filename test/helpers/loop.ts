/** Runs `work` while sampling the event loop every few ms; returns the largest gap between ticks. */
export async function measureLoopGaps(work: () => Promise<unknown>, intervalMs = 5): Promise<{ maxGapMs: number; p99GapMs: number; durationMs: number }> {
  const gaps: number[] = [];
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, intervalMs);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const durationMs = performance.now() - started;
  gaps.push(performance.now() - last);
  const sorted = [...gaps].sort((a, b) => a - b);
  return {
    maxGapMs: sorted[sorted.length - 1] ?? 0,
    p99GapMs: sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0,
    durationMs,
  };
}
