/**
 * Market-data line allocation (pure): which instruments of the universe get their streams under an
 * IB account's line budget, and a report of those that wait.
 *
 * IB counts one line per reqMktData (L1) and one per reqRealTimeBars stream; depth books (L2) are
 * limited separately (3 per account by default; error 309 beyond). The runner asks for every line
 * it holds at once and must never get 101 ("max number of tickers"), so the plan never exceeds the
 * budget:
 *
 * - an instrument is subscribed with ALL its lines or not at all (a strategy needs its bars and the
 *   execution side its quotes; half an instrument cannot trade);
 * - instruments with an open position come first (their risk must stay watched), in configured
 *   order, then the rest of the universe in configured order; an instrument that does not fit
 *   waits, and a later, cheaper one is not let past it (so the order of the config is the order
 *   of precedence, and adding a line frees the next one in line);
 * - depth goes to subscribed instruments that ask for it, in the same order, up to `maxDepth`
 *   books; depth of an instrument that waits is reported too.
 */

export interface LineBudgetRequest {
  /** The universe, in configured order (duplicates are ignored) */
  symbols: readonly string[];
  /** Lines available (IB account: 100 without booster packs) */
  lineBudget: number;
  /** Lines already held by others on the same account (default 0) */
  reservedLines?: number;
  /** One L1 line per instrument (reqMktData); default true */
  l1?: boolean;
  /** One realtime-bar line per instrument (reqRealTimeBars); default true */
  realtimeBars?: boolean;
  /** Instruments with open positions: subscribed first */
  positions?: Iterable<string>;
  /** Instruments asking for market depth (L2) */
  depth?: readonly string[];
  /** Depth books at once (IB: 3) */
  maxDepth?: number;
}

export type SubscribeReason = 'position' | 'configured';

export interface LineGrant {
  symbol: string;
  l1: boolean;
  realtimeBars: boolean;
  depth: boolean;
  /** Market-data lines this instrument takes (depth not included) */
  lines: number;
  /** Why it came when it did */
  reason: SubscribeReason;
}

export interface LineWait {
  symbol: string;
  hasPosition: boolean;
  reason: string;
}

export interface DepthRefusal {
  symbol: string;
  reason: string;
}

export interface LineAllocation {
  /** In priority order */
  subscribed: LineGrant[];
  /** Universe instruments left without lines, in priority order */
  notSubscribed: LineWait[];
  /** Depth requests not granted */
  depthRefused: DepthRefusal[];
  linesPerInstrument: number;
  linesUsed: number;
  lineBudget: number;
  /** Lines the plan may use: the budget minus the reserved lines */
  linesAvailable: number;
  depthUsed: number;
  maxDepth: number;
}

export const IB_MAX_DEPTH_BOOKS = 3;

/** Plans the subscriptions; throws RangeError on a negative or non-integer budget. */
export function allocateLines(request: LineBudgetRequest): LineAllocation {
  const { lineBudget } = request;
  const reserved = request.reservedLines ?? 0;
  const maxDepth = request.maxDepth ?? IB_MAX_DEPTH_BOOKS;
  for (const [name, v] of [
    ['lineBudget', lineBudget],
    ['reservedLines', reserved],
    ['maxDepth', maxDepth],
  ] as const) {
    if (!(Number.isInteger(v) && v >= 0)) throw new RangeError(`${name} must be an integer >= 0, was ${v}`);
  }
  const l1 = request.l1 ?? true;
  const realtimeBars = request.realtimeBars ?? true;
  const perInstrument = (l1 ? 1 : 0) + (realtimeBars ? 1 : 0);
  const available = Math.max(0, lineBudget - reserved);
  const universe = [...new Set(request.symbols)];
  const positions = new Set(request.positions ?? []);
  const wantsDepth = new Set(request.depth ?? []);

  const ordered = [...universe.filter((s) => positions.has(s)), ...universe.filter((s) => !positions.has(s))];
  const subscribed: LineGrant[] = [];
  const notSubscribed: LineWait[] = [];
  const depthRefused: DepthRefusal[] = [];
  let used = 0;
  let depthUsed = 0;
  let full = false;
  for (const symbol of ordered) {
    const hasPosition = positions.has(symbol);
    if (full || used + perInstrument > available) {
      full = true;
      const reason =
        perInstrument > available
          ? `needs ${perInstrument} market-data lines, the budget allows ${available}`
          : `line budget ${lineBudget}${reserved > 0 ? ` (${reserved} reserved)` : ''} used up: ${used} lines for ${subscribed.length} instruments, ${perInstrument} per instrument`;
      notSubscribed.push({ symbol, hasPosition, reason });
      if (wantsDepth.has(symbol)) depthRefused.push({ symbol, reason: 'no market-data lines for the instrument' });
      continue;
    }
    used += perInstrument;
    let depth = false;
    if (wantsDepth.has(symbol)) {
      if (depthUsed < maxDepth) {
        depth = true;
        depthUsed++;
      } else depthRefused.push({ symbol, reason: `depth limit of ${maxDepth} books reached` });
    }
    subscribed.push({ symbol, l1, realtimeBars, depth, lines: perInstrument, reason: hasPosition ? 'position' : 'configured' });
  }
  return { subscribed, notSubscribed, depthRefused, linesPerInstrument: perInstrument, linesUsed: used, lineBudget, linesAvailable: available, depthUsed, maxDepth };
}

/** One line per waiting instrument and refused depth book, for logs and the status page. */
export function describeAllocation(a: LineAllocation): string[] {
  const lines = [`${a.subscribed.length} instruments subscribed, ${a.linesUsed}/${a.linesAvailable} lines, ${a.depthUsed}/${a.maxDepth} depth books`];
  for (const w of a.notSubscribed) lines.push(`${w.symbol} waits${w.hasPosition ? ' (open position!)' : ''}: ${w.reason}`);
  for (const d of a.depthRefused) lines.push(`${d.symbol} depth refused: ${d.reason}`);
  return lines;
}
