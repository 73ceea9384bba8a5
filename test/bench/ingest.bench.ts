import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importFiles } from '../../lib/ingest/import-files.js';
import { parseGenericCsv } from '../../lib/ingest/csv/generic-csv.js';
import { loadBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { writeMinuteBarsCsv } from './data-gen.js';
import { medianMs, type BenchReport } from './harness.js';

const ROWS = 1_000_000;

/** Naive parse: what a quick script would do (split lines and fields, Number each). */
function naiveParse(text: string): number {
  let n = 0;
  let check = 0;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    if (!lines[i]) continue;
    const f = lines[i]!.split(',');
    check += Date.parse(`${f[0]!.replace(' ', 'T')}Z`) + Number(f[1]) + Number(f[2]) + Number(f[3]) + Number(f[4]) + Number(f[5]);
    n++;
  }
  if (Number.isNaN(check)) throw new Error('naive parse produced NaN');
  return n;
}

/** Ingest throughput: parse, import into DuckDB, idempotent re-import, columnar read back. */
export async function ingestBenchmarks(): Promise<BenchReport> {
  const dir = mkdtempSync(join(tmpdir(), 'monger-bench-'));
  try {
    const csv = join(dir, 'spy_minute.csv');
    writeMinuteBarsCsv(csv, ROWS);
    const buf = readFileSync(csv);
    const text = buf.toString('utf8');
    const opts = { file: csv, interval: '1m' as const, symbol: 'SPY' };

    const naiveMs = await medianMs(() => naiveParse(text));
    const parseMs = await medianMs(() => parseGenericCsv(readFileSync(csv), opts));

    // each run imports into a fresh store file; opening and closing it are not timed
    // (the commit is durable in the WAL), the whole importFiles call is
    const importTimes: number[] = [];
    for (let k = 0; k < 4; k++) {
      const store = await Store.open(join(dir, `import-${k}.duckdb`));
      try {
        const t = performance.now();
        const r = await importFiles(store, [csv], { interval: '1m', symbol: 'SPY' });
        if (k > 0) importTimes.push(performance.now() - t);
        if (r.bars.inserted !== ROWS) throw new Error(`expected ${ROWS} bars inserted, was ${r.bars.inserted}`);
      } finally {
        store.close();
      }
    }
    const importMs = importTimes.sort((a, b) => a - b)[1]!;

    const store = await Store.open(join(dir, 'reimport.duckdb'));
    try {
      await importFiles(store, [csv], { interval: '1m', symbol: 'SPY' });
      const reimportMs = await medianMs(async () => {
        const r = await importFiles(store, [csv], { interval: '1m', symbol: 'SPY' });
        if (r.bars.unchanged !== ROWS) throw new Error(`expected ${ROWS} bars unchanged, was ${r.bars.unchanged}`);
      });
      const queryMs = await medianMs(async () => {
        const [b] = await loadBars(store, { symbols: ['SPY'], interval: '1m' });
        if (b!.length !== ROWS) throw new Error(`expected ${ROWS} bars read, was ${b!.length}`);
      });
      const rate = (ms: number) => (ROWS / ms) * 1000;
      const parse = rate(parseMs);
      return {
        'csv.parse.naive': { value: rate(naiveMs), unit: 'rows/s', baseline: { name: 'csv.parse', value: parse }, ratio: rate(naiveMs) / parse },
        'csv.parse': { value: parse, unit: 'rows/s', baseline: { name: 'csv.parse.naive', value: rate(naiveMs) }, ratio: parse / rate(naiveMs) },
        'ingest.import': {
          value: rate(importMs),
          unit: 'rows/s',
          baseline: { name: 'csv.parse', value: parse },
          ratio: rate(importMs) / parse,
          target: '>= 0.5 x parse and >= 1M rows/s',
          met: rate(importMs) / parse >= 0.5 && rate(importMs) >= 1e6,
        },
        'ingest.reimport-unchanged': { value: rate(reimportMs), unit: 'rows/s', baseline: { name: 'ingest.import', value: rate(importMs) }, ratio: importMs / reimportMs },
        'store.load-bars': { value: rate(queryMs), unit: 'rows/s', baseline: { name: 'csv.parse', value: parse }, ratio: rate(queryMs) / parse },
      };
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
