import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * A large minute-bar CSV made of REAL bars: the bundled SPY regular-hours minute trade bars,
 * replayed day after day (prices rescaled by a seeded drift so days differ) until `rows`.
 * Columns: timestamp_utc,open,high,low,close,volume.
 */
export function writeMinuteBarsCsv(path: string, rows: number, seed = 42): void {
  const src = readFileSync(resolve('data/lean/equity/usa/minute/spy/20131007_spy_minute_trade.csv'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => l.split(',').map(Number))
    .filter((r) => r[0]! >= 34_200_000 && r[0]! < 57_600_000);
  let state = seed >>> 0;
  const rand = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  const lines = ['timestamp_utc,open,high,low,close,volume'];
  let day = Date.UTC(2000, 0, 3);
  let scale = 1;
  while (lines.length - 1 < rows) {
    const dow = new Date(day).getUTCDay();
    if (dow !== 0 && dow !== 6) {
      scale *= 1 + (rand() - 0.5) * 0.02;
      for (const r of src) {
        if (lines.length - 1 >= rows) break;
        const ts = new Date(day + r[0]! + 4 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
        const p = (x: number) => ((x / 10_000) * scale).toFixed(4);
        lines.push(`${ts},${p(r[1]!)},${p(r[2]!)},${p(r[3]!)},${p(r[4]!)},${r[5]}`);
      }
    }
    day += 86_400_000;
  }
  writeFileSync(path, `${lines.join('\n')}\n`);
}
