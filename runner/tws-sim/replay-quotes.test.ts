import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importFiles } from '../../lib/ingest/import-files.js';
import { loadBars, type InstrumentBars } from '../../lib/store/bar-query.js';
import { Store } from '../../lib/store/store.js';
import { lastClosedIndex, lowerBound, StoreQuoteBook } from './replay-quotes.js';
import { tradingDate } from './trading-hours.js';

const MIN = 60_000;
let store: Store;
let spy: { trade: InstrumentBars; bid: InstrumentBars; ask: InstrumentBars };
let euro: InstrumentBars;

beforeAll(async () => {
  store = await Store.open(':memory:');
  await importFiles(store, ['data/lean/equity/usa/minute/spy']);
  await importFiles(store, ['data/cme/6EH4.XCME_1min_bars_20240101_20240131.csv'], { symbol: '6E', contractMonth: '202403', interval: '1m' });
  const load = async (symbol: string, kind: 'trade' | 'bid' | 'ask') => (await loadBars(store, { symbols: [symbol], interval: '1m', kind }))[0]!;
  spy = { trade: await load('SPY', 'trade'), bid: await load('SPY', 'bid'), ask: await load('SPY', 'ask') };
  euro = await load('6E-202403', 'trade');
});
afterAll(() => store.close());

/** Index of the bar starting at `iso`. */
function at(b: InstrumentBars, iso: string): number {
  const i = b.ts.indexOf(Date.parse(iso));
  if (i < 0) throw new Error(`no bar at ${iso}`);
  return i;
}

describe('lastClosedIndex / lowerBound', () => {
  const ts = Float64Array.from([0, 60_000, 120_000, 240_000]);

  it('answers -1 before the first bar closes and for an empty series', () => {
    expect(lastClosedIndex(ts, 4, MIN, -1)).toBe(-1);
    expect(lastClosedIndex(ts, 4, MIN, MIN - 1)).toBe(-1);
    expect(lastClosedIndex(new Float64Array(0), 0, MIN, 1e12)).toBe(-1);
  });

  it('uses a bar exactly at its close, never a millisecond before', () => {
    expect(lastClosedIndex(ts, 4, MIN, MIN)).toBe(0);
    expect(lastClosedIndex(ts, 4, MIN, 2 * MIN - 1)).toBe(0);
    expect(lastClosedIndex(ts, 4, MIN, 2 * MIN)).toBe(1);
    // across the gap: the 120 000 bar stays the latest until the 240 000 bar closes
    expect(lastClosedIndex(ts, 4, MIN, 5 * MIN - 1)).toBe(2);
    expect(lastClosedIndex(ts, 4, MIN, 5 * MIN)).toBe(3);
    expect(lastClosedIndex(ts, 4, MIN, 1e12)).toBe(3);
  });

  it('respects the logical length of a longer buffer', () => {
    expect(lastClosedIndex(ts, 2, MIN, 1e12)).toBe(1);
    expect(lowerBound(ts, 4, 60_001)).toBe(2);
    expect(lowerBound(ts, 4, 0)).toBe(0);
    expect(lowerBound(ts, 4, 1e12)).toBe(4);
  });
});

describe('StoreQuoteBook on SPY minute trade and quote bars', () => {
  it('answers the closes of the last bars that closed by now, sizes from the quote bars', async () => {
    const book = new StoreQuoteBook(store);
    const now = Date.parse('2013-10-07T14:45:00Z');
    const i = at(spy.trade, '2013-10-07T14:44:00Z');
    const q = await book.quote('SPY', now);
    expect(q).toEqual({
      ts: now,
      bid: spy.bid.close[at(spy.bid, '2013-10-07T14:44:00Z')],
      ask: spy.ask.close[at(spy.ask, '2013-10-07T14:44:00Z')],
      bidSize: spy.bid.volume[at(spy.bid, '2013-10-07T14:44:00Z')],
      askSize: spy.ask.volume[at(spy.ask, '2013-10-07T14:44:00Z')],
      last: spy.trade.close[i],
      lastSize: spy.trade.volume[i],
      volume: sessionVolume(spy.trade, i),
    });
  });

  it('never uses a bar that closes after now (no lookahead)', async () => {
    const book = new StoreQuoteBook(store);
    const start = Date.parse('2013-10-07T14:45:00Z');
    const before = await book.quote('SPY', start + MIN - 1);
    const after = await book.quote('SPY', start + MIN);
    // the 14:45 bar is still forming one millisecond before 14:46
    expect(before!.last).toBe(spy.trade.close[at(spy.trade, '2013-10-07T14:44:00Z')]);
    expect(before!.bid).toBe(spy.bid.close[at(spy.bid, '2013-10-07T14:44:00Z')]);
    expect(after!.last).toBe(spy.trade.close[at(spy.trade, '2013-10-07T14:45:00Z')]);
    expect(after!.ask).toBe(spy.ask.close[at(spy.ask, '2013-10-07T14:45:00Z')]);
    expect(after!.ts).toBe(start + MIN);
    // at any instant every value comes from a bar whose close is <= now
    for (let t = start; t < start + 10 * MIN; t += 7_919) {
      const q = (await book.quote('SPY', t))!;
      const i = lastClosedIndex(spy.trade.ts, spy.trade.length, MIN, t);
      expect(spy.trade.ts[i]! + MIN).toBeLessThanOrEqual(t);
      expect(q.last).toBe(spy.trade.close[i]);
      expect(q.ts).toBeLessThanOrEqual(t);
    }
  });

  it('has no quote before the first bar closes, and none once the data is stale', async () => {
    const book = new StoreQuoteBook(store);
    const first = spy.bid.ts[0]!;
    expect(await book.quote('SPY', first + MIN - 1)).toBeUndefined();
    expect(await book.quote('SPY', first + MIN)).toMatchObject({ bid: spy.bid.close[0], last: NaN, volume: NaN });
    // the last 2013 bars are within the stale window over the weekend, not years later
    const lastTrade2013 = at(spy.trade, '2013-10-11T23:59:00Z');
    expect((await book.quote('SPY', Date.parse('2013-10-13T12:00:00Z')))!.last).toBe(spy.trade.close[lastTrade2013]);
    expect(await book.quote('SPY', Date.parse('2020-01-02T15:00:00Z'))).toBeUndefined();
    const fresh = new StoreQuoteBook(store, { staleAfterMs: Infinity });
    expect((await fresh.quote('SPY', Date.parse('2020-01-02T15:00:00Z')))!.last).toBe(spy.trade.close[lastTrade2013]);
  });

  it('sums the volume of the trading date so far and reports its open, high, low and previous close', async () => {
    const book = new StoreQuoteBook(store);
    const now = Date.parse('2013-10-08T15:00:00Z');
    const i = at(spy.trade, '2013-10-08T14:59:00Z');
    const first = at(spy.trade, firstBarOf(spy.trade, '2013-10-08'));
    const s = (await book.session('SPY', now))!;
    let high = -Infinity;
    let low = Infinity;
    for (let k = first; k <= i; k++) {
      high = Math.max(high, spy.trade.high[k]!);
      low = Math.min(low, spy.trade.low[k]!);
    }
    expect(s).toEqual({ open: spy.trade.open[first], high, low, prevClose: spy.trade.close[first - 1], lastTradeTs: now, syntheticQuote: false });
    expect((await book.quote('SPY', now))!.volume).toBe(sessionVolume(spy.trade, i));
    // extending forward keeps the running range right
    const later = (await book.session('SPY', now + 30 * MIN))!;
    const j = i + 30;
    for (let k = i + 1; k <= j; k++) {
      high = Math.max(high, spy.trade.high[k]!);
      low = Math.min(low, spy.trade.low[k]!);
    }
    expect([later.high, later.low]).toEqual([high, low]);
    // and asking earlier again recomputes rather than reusing the wider range
    expect((await book.session('SPY', now))!.high).toBe(s.high);
  });

  it('reuses the same frozen quote while the visible bars stay the same', async () => {
    const book = new StoreQuoteBook(store);
    const t = Date.parse('2013-10-07T15:00:00Z');
    const a = await book.quote('SPY', t);
    const b = await book.quote('SPY', t + 59_999);
    expect(b).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(await book.quote('SPY', t + MIN)).not.toBe(a);
  });

  it('answers undefined for an instrument the store does not know', async () => {
    const book = new StoreQuoteBook(store);
    expect(await book.quote('NOPE', Date.now())).toBeUndefined();
    expect(await book.series('NOPE')).toBeUndefined();
  });
});

describe('StoreQuoteBook on trade bars only (CME 6E)', () => {
  it('synthesizes bid and ask half a tick around the last trade', async () => {
    const book = new StoreQuoteBook(store);
    const now = Date.parse('2024-01-10T15:00:00Z');
    const i = at(euro, '2024-01-10T14:59:00Z');
    const q = (await book.quote('6E-202403', now))!;
    expect(q.last).toBe(euro.close[i]);
    expect(q.bid).toBeCloseTo(euro.close[i]! - 0.000025, 12);
    expect(q.ask).toBeCloseTo(euro.close[i]! + 0.000025, 12);
    expect([q.bidSize, q.askSize, q.lastSize]).toEqual([euro.volume[i], euro.volume[i], euro.volume[i]]);
    // CME's trading date starts at 17:00 Chicago (23:00 UTC in January)
    expect(q.volume).toBe(sessionVolume(euro, i, '6E'));
    expect((await book.session('6E-202403', now))!.syntheticQuote).toBe(true);
  });
});

function firstBarOf(b: InstrumentBars, date: string): string {
  for (let k = 0; k < b.length; k++) {
    if (tradingDate({ secType: 'STK', symbol: 'SPY' }, b.ts[k]!) === date) return new Date(b.ts[k]!).toISOString();
  }
  throw new Error(`no bars on ${date}`);
}

/** Volume of bar i's trading date up to and including bar i, computed the slow way. */
function sessionVolume(b: InstrumentBars, i: number, symbol = 'SPY'): number {
  const subject = symbol === 'SPY' ? { secType: 'STK', symbol } : { secType: 'FUT', symbol };
  const day = tradingDate(subject, b.ts[i]!);
  let v = 0;
  for (let k = 0; k <= i; k++) if (tradingDate(subject, b.ts[k]!) === day) v += b.volume[k]!;
  return v;
}
