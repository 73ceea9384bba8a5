import { isoDate } from '../core/time-zone.js';
import { futureKey, type InstrumentSpec } from './instrument.js';

/** IB/CME month codes, January = F */
export const MONTH_CODES = 'FGHJKMNQUVXZ';

type ExpiryRule = 'third-friday' | 'third-last-business-day' | 'two-days-before-third-wednesday';

interface FutureRoot {
  exchange: string;
  currency: string;
  multiplier: number;
  tickSize: number;
  expiryRule: ExpiryRule;
  description: string;
}

/** Contract specifications for the futures roots monger knows (from CME contract specs) */
export const FUTURE_ROOTS: Record<string, FutureRoot> = {
  ES: { exchange: 'CME', currency: 'USD', multiplier: 50, tickSize: 0.25, expiryRule: 'third-friday', description: 'E-mini S&P 500' },
  NQ: { exchange: 'CME', currency: 'USD', multiplier: 20, tickSize: 0.25, expiryRule: 'third-friday', description: 'E-mini Nasdaq-100' },
  GC: { exchange: 'COMEX', currency: 'USD', multiplier: 100, tickSize: 0.1, expiryRule: 'third-last-business-day', description: 'Gold' },
  '6E': { exchange: 'CME', currency: 'USD', multiplier: 125_000, tickSize: 0.00005, expiryRule: 'two-days-before-third-wednesday', description: 'Euro FX' },
};

function nthWeekday(year: number, month0: number, weekday: number, n: number): number {
  const first = Date.UTC(year, month0, 1);
  const offset = (weekday - new Date(first).getUTCDay() + 7) % 7;
  return first + (offset + (n - 1) * 7) * 86_400_000;
}

function isWeekend(ms: number): boolean {
  const d = new Date(ms).getUTCDay();
  return d === 0 || d === 6;
}

/**
 * Last trade date by the root's rule. Business days skip weekends only; exchange holidays
 * that move an expiry are rare and IB's contract details are authoritative at run time.
 */
export function futureExpiry(root: string, contractMonth: string): string {
  const spec = FUTURE_ROOTS[root];
  if (!spec) throw new RangeError(`unknown futures root '${root}', expected one of ${Object.keys(FUTURE_ROOTS).join(', ')}`);
  const year = Number(contractMonth.slice(0, 4));
  const month0 = Number(contractMonth.slice(4, 6)) - 1;
  switch (spec.expiryRule) {
    case 'third-friday':
      return isoDate(nthWeekday(year, month0, 5, 3));
    case 'two-days-before-third-wednesday':
      return isoDate(nthWeekday(year, month0, 3, 3) - 2 * 86_400_000);
    case 'third-last-business-day': {
      let d = Date.UTC(year, month0 + 1, 0);
      let seen = 0;
      for (;;) {
        if (!isWeekend(d)) seen++;
        if (seen === 3) return isoDate(d);
        d -= 86_400_000;
      }
    }
  }
}

/** IB local symbol for a contract month, e.g. ES 201312 -> ESZ3 */
export function futureLocalSymbol(root: string, contractMonth: string): string {
  const month = Number(contractMonth.slice(4, 6));
  return `${root}${MONTH_CODES[month - 1]}${contractMonth.slice(3, 4)}`;
}

export function isContractMonth(s: string): boolean {
  return /^\d{4}(0[1-9]|1[0-2])$/.test(s);
}

/** Full instrument spec for a listed futures contract. */
export function futureSpec(root: string, contractMonth: string): InstrumentSpec {
  const spec = FUTURE_ROOTS[root];
  if (!spec) throw new RangeError(`unknown futures root '${root}', expected one of ${Object.keys(FUTURE_ROOTS).join(', ')}`);
  if (!isContractMonth(contractMonth)) throw new RangeError(`expected a contract month YYYYMM, was '${contractMonth}'`);
  return {
    key: futureKey(root, contractMonth),
    symbol: root,
    secType: 'FUT',
    exchange: spec.exchange,
    currency: spec.currency,
    multiplier: spec.multiplier,
    tickSize: spec.tickSize,
    contractMonth,
    expiry: futureExpiry(root, contractMonth),
    localSymbol: futureLocalSymbol(root, contractMonth),
  };
}
