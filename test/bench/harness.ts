/**
 * Benchmark harness: every figure is measured next to a baseline measured in the same run
 * on the same machine, so ratios compare across commits even when machines differ.
 */
export interface BenchResult {
  value: number;
  unit: string;
  /** What the ratio compares against, and its value measured in this run */
  baseline: { name: string; value: number };
  /** value / baseline.value (higher is better for throughput) */
  ratio: number;
  /** Target the issue set, if any, and whether it is met */
  target?: string;
  met?: boolean;
}

export type BenchReport = Record<string, BenchResult>;

/** Median of `runs` timings of `fn` in ms (one warm-up first). */
export async function medianMs(fn: () => unknown | Promise<unknown>, runs = 3): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export function renderReport(report: BenchReport): string {
  const rows = Object.entries(report).map(([name, r]) => [
    name,
    `${fmt(r.value)} ${r.unit}`,
    `${r.baseline.name} = ${fmt(r.baseline.value)}`,
    r.ratio.toFixed(3),
    r.target ? `${r.target} ${r.met ? 'OK' : 'MISSED'}` : '',
  ]);
  const header = ['benchmark', 'value', 'baseline (same run)', 'ratio', 'target'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function fmt(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toPrecision(4);
}
