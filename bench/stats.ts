export function median(values: number[]): number {
  return quantile(values, 0.5);
}

/** Linear-interpolated quantile (q in 0..1). */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export const round = (v: number, digits = 1) => (Number.isFinite(v) ? Number(v.toFixed(digits)) : null);

/**
 * Geometric mean of ratios with a 95 % confidence interval (normal approximation on the logs):
 * the interval says how far the per-round noise leaves the true ratio. NaN bounds below 2 values.
 */
export function ratioInterval(ratios: number[]): { geomean: number; lo: number; hi: number } {
  const logs = ratios.filter((r) => r > 0).map(Math.log);
  const n = logs.length;
  if (n === 0) return { geomean: Number.NaN, lo: Number.NaN, hi: Number.NaN };
  const mean = logs.reduce((a, b) => a + b, 0) / n;
  if (n < 2) return { geomean: Math.exp(mean), lo: Number.NaN, hi: Number.NaN };
  const sd = Math.sqrt(logs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const half = (1.96 * sd) / Math.sqrt(n);
  return { geomean: Math.exp(mean), lo: Math.exp(mean - half), hi: Math.exp(mean + half) };
}
