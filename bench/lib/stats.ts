// Summaries of repeated measurements: these machines are shared and noisy, so every figure is a
// median over rounds with its spread, never a single run.
export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  /** (max − min) / median: how much the rounds disagreed. */
  readonly spread: number;
  readonly samples: number[];
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  const med = median(values);
  const min = Math.min(...values);
  const max = Math.max(...values);
  return { median: med, min, max, spread: med === 0 ? 0 : (max - min) / med, samples: values.map((v) => round(v, 4)) };
}

export function round(value: number, digits = 3): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** Ratio of two contenders measured in the same rounds: per-round ratios, then their summary. */
export function ratio(numerator: readonly number[], denominator: readonly number[]): Summary {
  return summarize(numerator.map((n, i) => n / denominator[i]!));
}

export const fmt = (value: number, digits = 1) => (Number.isFinite(value) ? value.toFixed(digits) : '–');
export const pm = (s: Summary, digits = 1) => `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
