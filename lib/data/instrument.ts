/** What the store knows about a tradable contract. `key` is unique: `SPY`, `ES-201312`, `EUR.USD`. */
export type SecType = 'STK' | 'FUT' | 'CASH';

export interface InstrumentSpec {
  key: string;
  symbol: string;
  secType: SecType;
  /** Primary listing exchange (NASDAQ, NYSE, ARCA, CME, COMEX…) */
  exchange: string;
  currency: string;
  multiplier: number;
  tickSize: number;
  /** Futures only: YYYYMM */
  contractMonth?: string;
  /** Futures only: last trade date YYYY-MM-DD */
  expiry?: string;
  /** IB's local symbol, e.g. ESZ3 */
  localSymbol?: string;
  conId?: number;
}

// IB-style: letters and digits (futures roots like 6E start with a digit), optional class suffix (BRK.B, BRK B)
const SYMBOL_RE = /^(?=[A-Z0-9]*[A-Z])[A-Z0-9]{1,10}([. -][A-Z0-9]{1,4})?$/;

/** True when `s` looks like a ticker IB would accept (uppercase letters/digits, optional class suffix). */
export function isValidSymbol(s: string): boolean {
  return SYMBOL_RE.test(s);
}

/** Why a symbol is invalid, or undefined when it is fine. */
export function symbolProblem(s: string): string | undefined {
  if (s.length === 0) return 'expected a symbol, was empty';
  if (isValidSymbol(s)) return undefined;
  return `expected 1-10 uppercase letters/digits with at least one letter (optionally a .B, -B or ' B' class suffix), was '${s}'`;
}

export function futureKey(root: string, contractMonth: string): string {
  return `${root}-${contractMonth}`;
}

export function stockSpec(symbol: string, exchange = 'SMART'): InstrumentSpec {
  return { key: symbol, symbol, secType: 'STK', exchange, currency: 'USD', multiplier: 1, tickSize: 0.01 };
}

/** LEAN map-file exchange codes to exchange names */
export const LEAN_EXCHANGE_CODES: Record<string, string> = {
  Q: 'NASDAQ',
  N: 'NYSE',
  P: 'ARCA',
  A: 'AMEX',
  Z: 'BATS',
};
