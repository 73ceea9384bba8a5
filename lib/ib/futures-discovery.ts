/**
 * Futures months and the front month (tws-protocol.md §6): list a root's months through the
 * contract resolver, choose the front month by an explicit roll rule, and turn IB's continuous
 * contract into the real FUT contract. CONTFUT is for discovery only: nothing here returns one,
 * so it can never reach market data or orders.
 */
import { ConfigError } from '../core/errors.js';
import type { ExchangeCalendar } from '../calendar/index.js';
import { isoDate } from '../core/time-zone.js';
import { ContractNotFoundError, ContractResolveError, type ContractQuery, type ContractResolver, type ResolvedContract } from './contract-resolver.js';

export interface ListFutureMonthsOptions {
  /** Also list expired months (default false) */
  includeExpired?: boolean;
  /** Default USD */
  currency?: string;
  /** Ask TWS even if the listing is cached */
  refresh?: boolean;
}

/**
 * Roll rules:
 * - `days-before-expiry`: hold a month until N trading days (sessions of `calendar`) before its
 *   last trade date; on that trading day and after, the next month is the front. N = 0 rolls
 *   on the expiry day itself.
 * - `volume`: the live month with the largest volume (ties: the nearer expiry); months missing
 *   from `volumes` count as 0. Live means not past its last trade date on the trading date of
 *   `now` (by `calendar` when given, else the UTC date).
 */
export type RollRule =
  | { kind: 'days-before-expiry'; days: number; calendar: ExchangeCalendar }
  | { kind: 'volume'; volumes: ReadonlyMap<number, number>; calendar?: ExchangeCalendar };

/** A root's listed months (FUT only), sorted by last trade date. */
export async function listFutureMonths(resolver: ContractResolver, root: string, exchange: string, options: ListFutureMonthsOptions = {}): Promise<ResolvedContract[]> {
  const query: ContractQuery = { symbol: root, secType: 'FUT', exchange, currency: options.currency ?? 'USD' };
  if (options.includeExpired) query.includeExpired = true;
  const contracts = await resolver.resolve(query, { refresh: options.refresh });
  return sortByExpiry(contracts.filter(isListedFuture));
}

/**
 * The front month at `now` under `rule`, or undefined when no month qualifies (all expired or
 * rolled past). CONTFUT entries and other sec types in `months` are ignored.
 */
export function frontMonth(months: readonly ResolvedContract[], now: number, rule: RollRule): ResolvedContract | undefined {
  const listed = sortByExpiry(months.filter(isListedFuture));
  if (rule.kind === 'days-before-expiry') {
    if (!(Number.isInteger(rule.days) && rule.days >= 0)) throw new ConfigError('roll rule', [`days must be an integer >= 0, got ${rule.days}`]);
    const today = tradingDateAt(rule.calendar, now);
    return listed.find((m) => tradingDaysUntil(rule.calendar, today, expiryDate(m)) > rule.days);
  }
  const today = rule.calendar ? tradingDateAt(rule.calendar, now) : isoDate(now);
  let best: ResolvedContract | undefined;
  let bestVolume = -Infinity;
  for (const m of listed) {
    if (expiryDate(m) < today) continue;
    const v = rule.volumes.get(m.conId) ?? 0;
    // listed is sorted by expiry, so a tie keeps the nearer month
    if (v > bestVolume) {
      best = m;
      bestVolume = v;
    }
  }
  return best;
}

/**
 * The real FUT contract behind IB's continuous contract: resolves the CONTFUT (never cached) only
 * to read its conId, then resolves that conId as FUT. Throws ContractNotFoundError when IB knows
 * no continuous contract for the root, or when its front month has expired by `now` (UTC date).
 */
export async function continuousToFront(resolver: ContractResolver, root: string, exchange: string, now: number, options: { currency?: string } = {}): Promise<ResolvedContract> {
  const currency = options.currency ?? 'USD';
  const contQuery: ContractQuery = { symbol: root, secType: 'CONTFUT', exchange, currency };
  const cont = (await resolver.resolve(contQuery)).find((c) => c.secType === 'CONTFUT' && c.conId > 0);
  if (!cont) throw new ContractNotFoundError(contQuery, 'no continuous contract');
  const futQuery: ContractQuery = { symbol: root, secType: 'FUT', exchange, currency, conId: cont.conId };
  const listed = (await resolver.resolve(futQuery)).filter((c) => isListedFuture(c) && c.conId === cont.conId);
  if (listed.length === 0) throw new ContractNotFoundError(futQuery, `CONTFUT front month conId ${cont.conId} is not a listed FUT`);
  if (listed.length > 1) throw new ContractResolveError('IB_CONTRACT_AMBIGUOUS', `conId ${cont.conId} answered ${listed.length} FUT contracts`);
  const front = listed[0]!;
  if (front.lastTradeDate && expiryDate(front) < isoDate(now)) {
    throw new ContractNotFoundError(futQuery, `CONTFUT front month ${front.localSymbol} expired on ${expiryDate(front)}`);
  }
  return front;
}

function isListedFuture(c: ResolvedContract): boolean {
  return c.secType === 'FUT' && /^\d{8}$/.test(c.lastTradeDate);
}

function sortByExpiry(months: ResolvedContract[]): ResolvedContract[] {
  return months.sort((a, b) => a.lastTradeDate.localeCompare(b.lastTradeDate) || a.contractMonth.localeCompare(b.contractMonth) || a.conId - b.conId);
}

/** YYYYMMDD -> YYYY-MM-DD */
function expiryDate(m: ResolvedContract): string {
  const d = m.lastTradeDate;
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
}

/**
 * The trading date `now` belongs to: the session containing it, else the next session (nights,
 * weekends and holidays count toward the next trading day).
 */
export function tradingDateAt(calendar: ExchangeCalendar, now: number): string {
  const s = calendar.sessionAt(now) ?? calendar.sessionAt(calendar.nextOpen(now));
  if (!s) throw new ConfigError('roll rule', [`${calendar.name} has no session at or after ${new Date(now).toISOString()}`]);
  return s.date;
}

/**
 * Trading days from `today` to `expiry` (both YYYY-MM-DD): sessions dated after today up to and
 * including the expiry date; 0 on the expiry day, -1 once it has passed.
 */
export function tradingDaysUntil(calendar: ExchangeCalendar, today: string, expiry: string): number {
  if (expiry < today) return -1;
  if (expiry === today) return 0;
  return calendar.sessions(today, expiry).filter((s) => s.date > today).length;
}
