/**
 * The ClickHouse signal provider against a real server (Debian's clickhouse-server, started here on
 * a loopback port): JSONEachRow inserts, watermark polling, late rows, rejected rows, errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseSignalProvider } from '../../lib/signals/clickhouse-provider.js';
import { START_WATERMARK, watermarkAt } from '../../lib/signals/provider.js';
import { SignalError, type Signal } from '../../lib/signals/signal.js';
import { startClickHouse, type ClickHouseServer } from './clickhouse-server.js';

const T0 = Date.UTC(2024, 2, 4, 15, 0);
const MIN = 60_000;

function sig(symbol: string, minute: number, value: number, lagMin = 0): Signal {
  return { ts: T0 + minute * MIN, symbol, value, availableAt: T0 + (minute + lagMin) * MIN };
}

describe('ClickHouseSignalProvider (real server)', () => {
  let server: ClickHouseServer;
  const providers: ClickHouseSignalProvider[] = [];
  const provider = async (table: string, onRejected?: (s: Signal, why: string) => void) => {
    const p = new ClickHouseSignalProvider({ url: server.url, table, onRejected });
    providers.push(p);
    await p.createTable();
    return p;
  };

  beforeAll(async () => {
    server = await startClickHouse();
  }, 90_000);
  afterAll(async () => {
    for (const p of providers) await p.close();
    await server?.stop();
  }, 30_000);

  it('runs a real server', () => {
    expect(server.version).toMatch(/^\d+\.\d+/);
  });

  it('polls inserted rows in delivery order by watermark, exactly, in pages, up to `until`', async () => {
    const p = await provider('signals_order');
    await p.insert([sig('MSFT', 1, 0.5), sig('AAPL', 1, -0.25), { ...sig('AAPL', 0, 0.9, 1), source: 'model-a' }, sig('IBM', 2, 0.1), sig('AAPL', 3, 0.3)]);
    const a = await p.poll(START_WATERMARK, { until: T0 + 2 * MIN, limit: 2 });
    expect(a.signals).toEqual([
      { ts: T0, symbol: 'AAPL', value: 0.9, availableAt: T0 + MIN, source: 'model-a' },
      { ts: T0 + MIN, symbol: 'AAPL', value: -0.25, availableAt: T0 + MIN },
    ]);
    expect(a.more).toBe(true);
    const b = await p.poll(a.watermark, { until: T0 + 2 * MIN, limit: 2 });
    expect(b.signals.map((s) => s.symbol)).toEqual(['MSFT', 'IBM']);
    const c = await p.poll(b.watermark, { until: T0 + 2 * MIN });
    expect([c.signals.length, c.more]).toEqual([0, false]);
    expect((await p.poll(c.watermark, { until: Infinity })).signals.map((s) => [s.symbol, s.ts - T0])).toEqual([['AAPL', 3 * MIN]]);
    // a backtest starting at 1m: what was published by then is history
    expect((await p.poll(watermarkAt(T0 + MIN), { until: Infinity })).signals.map((s) => s.symbol)).toEqual(['IBM', 'AAPL']);
  });

  it('finds a row inserted late behind the watermark once with lateMs', async () => {
    const p = await provider('signals_late');
    await p.insert([sig('AAPL', 5, 1), sig('MSFT', 6, 1)]);
    const a = await p.poll(START_WATERMARK, { until: T0 + 10 * MIN, lateMs: 3 * MIN });
    await p.insert([{ ts: T0 + 5 * MIN, symbol: 'IBM', value: 0.4, availableAt: T0 + 5.5 * MIN }]);
    const b = await p.poll(a.watermark, { until: T0 + 10 * MIN, lateMs: 3 * MIN });
    expect(b.signals.map((s) => s.symbol)).toEqual(['IBM']);
    expect((await p.poll(b.watermark, { until: T0 + 10 * MIN, lateMs: 3 * MIN })).signals).toEqual([]);
  });

  it('skips and reports a row that breaks the contract once, moving past it; escapes symbols in the SQL', async () => {
    const rejected: string[] = [];
    const p = await provider('signals_bad', (s, why) => rejected.push(`${s.symbol}|${why}`));
    // written by another producer without our checks; the quote must be escaped in the next page's SQL
    await (p as unknown as { client: { insert(o: object): Promise<unknown> } }).client.insert({
      table: 'default.signals_bad',
      format: 'JSONEachRow',
      values: [
        { ts: T0, symbol: "O'BAD", value: 1, available_at: T0 },
        { ts: T0, symbol: 'AAPL', value: 1, available_at: T0 },
        { ts: T0, symbol: 'ZION', value: 1, available_at: T0 },
      ],
    });
    const a = await p.poll(START_WATERMARK, { until: Infinity, limit: 2 });
    expect(a.signals.map((s) => s.symbol)).toEqual(['AAPL']);
    expect(a.watermark).toEqual({ availableAt: T0, ts: T0, symbol: "O'BAD" });
    expect(rejected).toHaveLength(1);
    expect(rejected[0]).toMatch(/^O'BAD\|symbol: expected 1-10 uppercase/);
    const b = await p.poll(a.watermark, { until: Infinity });
    expect(b.signals.map((s) => s.symbol)).toEqual(['ZION']);
    expect(rejected).toHaveLength(1);
  });

  it('reports a server error as a SignalError naming table and operation', async () => {
    const p = new ClickHouseSignalProvider({ url: server.url, table: 'no_such_table' });
    providers.push(p);
    const e = await p.poll(START_WATERMARK, { until: Infinity }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(SignalError);
    expect((e as SignalError).message).toMatch(/^clickhouse http:\/\/127\.0\.0\.1:\d+ default\.no_such_table poll: .*(doesn't exist|does not exist)/);
  });
});
