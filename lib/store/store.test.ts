import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BarSeries } from '../data/bar-series.js';
import { stockSpec } from '../data/instrument.js';
import { loadBars } from './bar-query.js';
import { writeBars } from './bar-writer.js';
import { startRun } from './ingest-runs.js';
import { upsertInstruments } from './instruments.js';
import { MIGRATIONS } from './migrations.js';
import { Store } from './store.js';

let dir: string;
let file: string;
const open: Store[] = [];

async function openStore(): Promise<Store> {
  const s = await Store.open(file);
  open.push(s);
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'monger-'));
  file = path.join(dir, 'store.duckdb');
});

afterEach(() => {
  for (const s of open.splice(0)) s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Deterministic pseudo-random series (seeded LCG) of `n` minute bars; values need every bit of a double. */
function makeSeries(key: string, n: number): BarSeries {
  let x = 987654321;
  const rnd = () => (x = (x * 48271) % 2147483647) / 2147483647;
  const ts = new Float64Array(n);
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const close = new Float64Array(n);
  const volume = new Float64Array(n);
  const t0 = Date.UTC(2024, 0, 2, 14, 30);
  for (let i = 0; i < n; i++) {
    ts[i] = t0 + i * 60_000;
    const o = 100 + rnd() * 10;
    const c = 100 + rnd() * 10;
    open[i] = o;
    close[i] = c;
    high[i] = Math.max(o, c) + rnd() / 3;
    low[i] = Math.min(o, c) - rnd() / 7;
    volume[i] = Math.floor(rnd() * 1e6);
  }
  return { length: n, ts, open, high, low, close, volume, instrumentKey: key, interval: '1m', kind: 'trade', file: 'hand-made' };
}

async function writeSeries(store: Store, s: BarSeries): Promise<void> {
  await store.transaction(async () => {
    const runId = await startRun(store, 'test', ['hand-made'], new Date());
    const ids = await upsertInstruments(store, [stockSpec(s.instrumentKey)], 'hand-made');
    await writeBars(store, [s], ids, 'sim', runId);
  });
}

const count = async (store: Store, table: string): Promise<number> => (await store.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n;

describe('Store migrations', () => {
  it('records every migration version in schema_migrations when a new file is opened', async () => {
    const store = await openStore();
    const rows = await store.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(rows[0]?.version).toBe(1);
    expect(await store.schemaVersion()).toBe(MIGRATIONS.length);
  });

  it('applies nothing when the same file is reopened', async () => {
    (await openStore()).close();
    open.length = 0;
    const store = await openStore();
    expect(await store.migrate()).toEqual([]);
    expect(await count(store, 'schema_migrations')).toBe(MIGRATIONS.length);
  });

  it('refuses a store whose schema is newer than the code', async () => {
    const store = await openStore();
    await store.run(`INSERT INTO schema_migrations (version, name) VALUES (99, 'future')`);
    store.close();
    open.length = 0;
    await expect(Store.open(file)).rejects.toMatchObject({ code: 'STORE_MIGRATION' });
  });
});

describe('Store bar round trip', () => {
  it('reads back identical timestamps and values when 5,000 hand-made bars are written', async () => {
    // 5,000 rows span three 2048-row appender chunks
    const store = await openStore();
    const s = makeSeries('RT', 5000);
    await writeSeries(store, s);
    const [got] = await loadBars(store, { symbols: ['RT'], interval: '1m' });
    expect(got!.length).toBe(5000);
    expect(got!.ts).toEqual(s.ts);
    expect(got!.open).toEqual(s.open);
    expect(got!.high).toEqual(s.high);
    expect(got!.low).toEqual(s.low);
    expect(got!.close).toEqual(s.close);
    expect(got!.volume).toEqual(s.volume);
    expect(got!.instrument.key).toBe('RT');
  });

  it('keeps the data after the store is closed and reopened', async () => {
    const s = makeSeries('RT', 100);
    await writeSeries(await openStore(), s);
    open.splice(0).forEach((x) => x.close());
    const store = await openStore();
    const [got] = await loadBars(store, { symbols: ['RT'], interval: '1m' });
    expect(got!.close).toEqual(s.close);
  });

  it('counts identical bars as unchanged when the same series is written again', async () => {
    const store = await openStore();
    const s = makeSeries('RT', 300);
    await writeSeries(store, s);
    const counts = await store.transaction(async () => {
      const runId = await startRun(store, 'test', ['hand-made'], new Date());
      const ids = await upsertInstruments(store, [stockSpec('RT')], 'hand-made');
      return writeBars(store, [s], ids, 'sim', runId);
    });
    expect(counts).toEqual({ inserted: 0, updated: 0, unchanged: 300 });
    expect(await count(store, 'bars')).toBe(300);
  });
});

describe('Store.transaction', () => {
  it('rolls back every write when the callback throws after writing', async () => {
    const store = await openStore();
    await writeSeries(store, makeSeries('KEEP', 10));
    const before = [await count(store, 'bars'), await count(store, 'instruments'), await count(store, 'ingest_runs')];
    await expect(
      store.transaction(async () => {
        const runId = await startRun(store, 'test', ['x'], new Date());
        const ids = await upsertInstruments(store, [stockSpec('GONE')], 'x');
        await writeBars(store, [makeSeries('GONE', 50)], ids, 'sim', runId);
        expect(await count(store, 'bars')).toBe(60);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect([await count(store, 'bars'), await count(store, 'instruments'), await count(store, 'ingest_runs')]).toEqual(before);
  });

  it('returns the callback value when it commits', async () => {
    const store = await openStore();
    await expect(store.transaction(async () => 42)).resolves.toBe(42);
  });
});
