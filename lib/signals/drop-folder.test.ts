import { appendFileSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataError } from '../core/errors.js';
import { Store } from '../store/store.js';
import { DuckDbSignalProvider, insertSignals } from './duckdb-provider.js';
import { DropFolderSignalProvider, type SignalFileResult } from './drop-folder.js';
import { START_WATERMARK } from './provider.js';
import { readSignalFile } from './signal-file.js';

const T0 = Date.UTC(2024, 2, 4, 15, 0);
const MIN = 60_000;

describe('drop-folder signals', () => {
  let dir: string;
  let store: Store;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'monger-signals-'));
    store = await Store.open(':memory:');
  });
  afterEach(() => {
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A finished file: written a while ago (its mtime an hour back), so the first scan takes it */
  const write = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    const old = new Date(Date.now() - 3_600_000);
    utimesSync(path, old, old);
    return path;
  };

  it('reads CSV (any column order, blank lines, optional available_at and source, extra columns ignored)', async () => {
    const path = write('a.csv', 'symbol,value,ts,model,available_at\nAAPL,0.5,2024-03-04T15:00:00Z,m1,\n\nMSFT,-0.25,2024-03-04 15:01:00,m1,2024-03-04T15:03:00Z\n');
    const rows = await readSignalFile(store, path);
    expect(rows).toEqual([
      { ts: T0, symbol: 'AAPL', value: 0.5, availableAt: T0, source: 'a.csv:2', line: 2 },
      { ts: T0 + MIN, symbol: 'MSFT', value: -0.25, availableAt: T0 + 3 * MIN, source: 'a.csv:4', line: 4 },
    ]);
  });

  it('names file and line of a bad row: unparsable value, missing column, bad symbol, publication before ts', async () => {
    const bad = async (text: string) => {
      const path = write('bad.csv', text);
      try {
        await readSignalFile(store, path);
      } catch (e) {
        expect(e).toBeInstanceOf(DataError);
        return (e as DataError).message.replace(dir, '<dir>');
      }
      throw new Error('no error');
    };
    expect(await bad('ts,symbol,value\n2024-03-04T15:00:00Z,AAPL,0.5\n\n2024-03-04T15:01:00Z,MSFT,abc\n')).toMatch(/^<dir>\/bad\.csv:4 column 'value': Error when converting column "value"\. Could not convert string "abc" to 'DOUBLE'/);
    expect(await bad('ts,symbol,value\n2024-03-04T15:00:00Z,AAPL\n')).toMatch(/^<dir>\/bad\.csv:2.*Expected Number of Columns: 3 Found: 2/);
    expect(await bad('ts,symbol,value\n2024-03-04T15:00:00Z,AAPL,1\n2024-03-04T15:00:00Z,aapl,1\n')).toBe(
      `<dir>/bad.csv:3 column 'symbol': symbol: expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was 'aapl'`,
    );
    expect(await bad('ts,symbol,value,available_at\n2024-03-04T15:05:00Z,AAPL,1,2024-03-04T15:00:00Z\n')).toBe(
      `<dir>/bad.csv:2 column 'available_at': available_at: 2024-03-04T15:00:00.000Z is before ts 2024-03-04T15:05:00.000Z: a signal cannot be published before the time it is about`,
    );
    expect(await bad('ts,symbol,value\n,AAPL,1\n')).toBe(`<dir>/bad.csv:2 column 'ts': ts: expected a time, got NaN`);
    expect(await bad('time,symbol,value\n')).toBe(`<dir>/bad.csv:1: missing column ts; expected a header ts,symbol,value[,available_at][,source], got time,symbol,value`);
  });

  it('reads Parquet (TIMESTAMP or epoch-ms columns) and .csv.gz, rows numbered from 1', async () => {
    const pq = join(dir, 'b.parquet');
    await store.run(`COPY (SELECT * FROM (VALUES (TIMESTAMP '2024-03-04 15:00:00', 'AAPL', 1.5), (TIMESTAMP '2024-03-04 15:01:00', 'IBM', -1.0)) t(ts, symbol, value)) TO '${pq}' (FORMAT parquet)`);
    expect((await readSignalFile(store, pq)).map((s) => [s.symbol, s.ts, s.value, s.line, s.source])).toEqual([
      ['AAPL', T0, 1.5, 1, 'b.parquet:1'],
      ['IBM', T0 + MIN, -1, 2, 'b.parquet:2'],
    ]);
    const ms = join(dir, 'c.parquet');
    await store.run(`COPY (SELECT * FROM (VALUES (${T0}::BIGINT, 'AAPL', 1.0, ${T0 + MIN}::BIGINT), (${T0}::BIGINT, 'X Y Z', 1.0, ${T0}::BIGINT)) t(ts, symbol, value, available_at)) TO '${ms}' (FORMAT parquet)`);
    await expect(readSignalFile(store, ms)).rejects.toThrow(/c\.parquet:2 column 'symbol': symbol: expected 1-10/);
    const gz = join(dir, 'd.csv.gz');
    writeFileSync(gz, gzipSync('ts,symbol,value\n2024-03-04T15:00:00Z,AAPL,2\n'));
    expect((await readSignalFile(store, gz)).map((s) => [s.symbol, s.value])).toEqual([['AAPL', 2]]);
  });

  it('imports each file once, in name order; a failed file writes nothing and is retried only once changed', async () => {
    write('1.csv', 'ts,symbol,value\n2024-03-04T15:00:00Z,AAPL,0.5\n2024-03-04T15:02:00Z,AAPL,-0.5\n');
    const bad = write('2.csv', 'ts,symbol,value\n2024-03-04T15:01:00Z,MSFT,0.5\n2024-03-04T15:01:00Z,MSFT,0.7\n');
    write('notes.txt', 'not a signal file');
    const files: SignalFileResult[] = [];
    const p = new DropFolderSignalProvider(store, { folder: dir, onError: 'skip', onFile: (r) => files.push(r) });
    const a = await p.poll(START_WATERMARK, { until: Infinity });
    expect(a.signals.map((s) => [s.symbol, s.ts - T0, s.source])).toEqual([
      ['AAPL', 0, '1.csv:2'],
      ['AAPL', 2 * MIN, '1.csv:3'],
    ]);
    expect(files.map((f) => [f.path.slice(dir.length + 1), f.status, f.rows, f.error?.message.slice(dir.length + 1)])).toEqual([
      ['1.csv', 'imported', 2, undefined],
      ['2.csv', 'failed', 0, '2.csv:3: duplicate signal MSFT at 2024-03-04T15:01:00.000Z (first at ' + dir + '/2.csv:2); a signal is immutable: publish a revision with a later ts'],
    ]);
    // polling again reads no file again
    expect((await p.poll(a.watermark, { until: Infinity })).signals).toEqual([]);
    expect(files).toHaveLength(2);
    // the fixed file (new size and time) is retried; its 15:01 row was published before the watermark
    // (15:02): a late row, delivered first
    writeFileSync(bad, 'ts,symbol,value\n2024-03-04T15:01:00Z,MSFT,0.5\n2024-03-04T15:03:00Z,MSFT,0.7\n');
    utimesSync(bad, new Date(T0), new Date(T0 + 1000));
    const b = await p.poll(a.watermark, { until: Infinity });
    expect(b.signals.map((s) => [s.symbol, s.ts - T0])).toEqual([
      ['MSFT', MIN],
      ['MSFT', 3 * MIN],
    ]);
    expect(files.map((f) => f.status)).toEqual(['imported', 'failed', 'imported']);
    const tracked = await store.all<{ path: string; status: string; rows: number }>('SELECT path, status, rows FROM signal_files ORDER BY file_id');
    expect(tracked.map((t) => [t.path.slice(dir.length + 1), t.status, t.rows])).toEqual([
      ['1.csv', 'imported', 2],
      ['2.csv', 'failed', 0],
      ['2.csv', 'imported', 2],
    ]);
  });

  it("throws a bad file's error from poll by default (a backtest never runs on a silently skipped file)", async () => {
    write('x.csv', 'ts,symbol,value\n2024-03-04T15:00:00Z,AAPL,oops\n');
    await expect(new DropFolderSignalProvider(store, { folder: dir }).poll(START_WATERMARK, { until: Infinity })).rejects.toThrow(/x\.csv:2 column 'value'/);
  });

  it("delivers only its own folder's files from a shared signals table", async () => {
    await insertSignals(store, [{ ts: T0, symbol: 'IBM', value: 1, availableAt: T0 }]);
    write('a.csv', 'ts,symbol,value\n2024-03-04T15:01:00Z,AAPL,1\n');
    const b = await new DropFolderSignalProvider(store, { folder: dir }).poll(START_WATERMARK, { until: Infinity });
    expect(b.signals.map((s) => s.symbol)).toEqual(['AAPL']);
    expect((await new DuckDbSignalProvider(store).poll(START_WATERMARK, { until: Infinity })).signals.map((s) => s.symbol)).toEqual(['IBM', 'AAPL']);
  });

  it('never imports a file still being written: fresh files wait for an unchanged scan; temp names are ignored', async () => {
    const files: string[] = [];
    // settleMs of an hour: only the unchanged-between-scans rule applies, however slow the machine
    const p = new DropFolderSignalProvider(store, { folder: dir, settleMs: 3_600_000, onFile: (r) => files.push(`${r.path.slice(dir.length + 1)} ${r.status} ${r.rows}`) });
    const scan = async () => (await p.scan()).map((r) => r.path.slice(dir.length + 1));
    // a writer mid-way: the last line is torn ("0.1" of "0.125")
    const path = join(dir, 'live.csv');
    writeFileSync(path, 'ts,symbol,value\n2024-03-04T15:00:00Z,AAPL,0.5\n2024-03-04T15:01:00Z,MSFT,0.1');
    expect(await scan()).toEqual([]);
    // it grew since: still not taken
    appendFileSync(path, '25\n');
    expect(await scan()).toEqual([]);
    // unchanged since the previous scan: settled, imported whole
    expect(await scan()).toEqual(['live.csv']);
    const b = await p.poll(START_WATERMARK, { until: Infinity });
    expect(b.signals.map((s) => [s.symbol, s.value])).toEqual([
      ['AAPL', 0.5],
      ['MSFT', 0.125],
    ]);
    // write-to-temp-then-rename: the temp names are never read, the renamed file is complete
    writeFileSync(join(dir, '.next.csv'), 'ts,symbol,value\n2024-03-04T15:02:00Z,IBM,1\n');
    writeFileSync(join(dir, 'next.csv.partial'), 'ts,symbol,value\n2024-03-04T15:02:00Z,IBM,1\n');
    expect(await scan()).toEqual([]);
    expect(await scan()).toEqual([]);
    renameSync(join(dir, '.next.csv'), join(dir, 'next.csv'));
    expect(await scan()).toEqual([]);
    expect(await scan()).toEqual(['next.csv']);
    expect(files).toEqual(['live.csv imported 2', 'next.csv imported 1']);
    // settleMs 0: taken at once (a folder known to be complete)
    writeFileSync(join(dir, 'now.csv'), 'ts,symbol,value\n2024-03-04T15:03:00Z,IBM,2\n');
    expect((await new DropFolderSignalProvider(store, { folder: dir, settleMs: 0 }).scan()).map((r) => r.path.slice(dir.length + 1))).toEqual(['now.csv']);
  });
});
