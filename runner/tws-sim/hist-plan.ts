/**
 * A historical request validated and resolved against the store (contract, window, source
 * interval), and the bars of a window built from it. Errors carry IB's code and text.
 */
import { DAY_MS } from '../../lib/core/time-zone.js';
import { intervalMs, isIntraday, type Interval } from '../../lib/data/interval.js';
import { listInstruments, type InstrumentRow } from '../../lib/store/instruments.js';
import type { Store } from '../../lib/store/store.js';
import { frontMonth, matchContracts, type ContractQuery, type SimContract } from './contract-match.js';
import { aggregate, chooseSource, type OutBar } from './hist-bars.js';
import { formatInstant, type WireBar } from './hist-format.js';
import { continuousSegments, availableIntervals, loadSegments, wholeSegment, WHAT_TO_SHOW, type Segment, type SourceKind } from './hist-source.js';
import { durationStart, parseBarSize, parseDuration, parseEndDateTime, smallestBarSeconds, LEGAL_BAR_SIZES, type HistoricalRequest } from './hist-request.js';
import { ambiguousContract, CONTFUT_END_DATE, HMDS_ERROR, invalidRequest, NO_SECURITY_DEFINITION, TIME_LENGTH_EXCEEDED, VALIDATION_ERROR } from './ib-errors.js';
import { compactDate, exchangeZone, ibTimeZoneId, regularHours, sessionHours } from './trading-hours.js';
import type { SimContext } from './types.js';

export type Refusal = { ok: false; code: number; message: string };

export interface ResolvedContract {
  ok: true;
  contract: SimContract;
  /** The instrument whose calendar and zone apply (CONTFUT: the front month) */
  inst: InstrumentRow;
  segments: Segment[];
}

export interface HistPlan {
  req: HistoricalRequest;
  contract: SimContract;
  inst: InstrumentRow;
  segments: Segment[];
  target: Interval;
  /** Stored interval the bars are built from; undefined when nothing fits (answered as no data) */
  source: Interval | undefined;
  kind: SourceKind;
  /** The window [start, end); end never after the sim clock */
  start: number;
  end: number;
  zone: string;
  /** US stock volume is reported in lots of 100 */
  volumeDivisor: number;
  /** `SPY@SMART Trades`, for IB's no-data text */
  what: string;
}

export interface PlanOptions {
  /** Zone of an endDateTime given without one (TWS's login zone) */
  loginTimeZone: string;
  stockVolumeInLots: boolean;
}

/** Bars of 30 s or less: the sizes IB's strict limits apply to */
export const SMALL_BAR_MS = 30_000;

const refuse = (code: number, message: string): Refusal => ({ ok: false, code, message });

/** One contract for a data request: STK/FUT must match exactly one; CONTFUT stitches the months. */
export async function resolveDataContract(store: Store, q: ContractQuery, now: number): Promise<ResolvedContract | Refusal> {
  const instruments = await listInstruments(store);
  if (q.secType === 'CONTFUT') {
    const [contract] = matchContracts(instruments, q, now);
    const front = frontMonth(instruments, q, now);
    if (!contract || !front) return refuse(NO_SECURITY_DEFINITION.code, NO_SECURITY_DEFINITION.text);
    const months = instruments
      .filter((i) => i.secType === 'FUT' && i.symbol === front.symbol && i.exchange === front.exchange && i.currency === front.currency)
      .sort((a, b) => (a.expiry ?? '').localeCompare(b.expiry ?? ''));
    return { ok: true, contract, inst: front, segments: continuousSegments(months) };
  }
  const matches = matchContracts(instruments, q, now).filter((c) => c.secType !== 'CONTFUT');
  if (matches.length === 0) return refuse(NO_SECURITY_DEFINITION.code, NO_SECURITY_DEFINITION.text);
  if (matches.length > 1) return refuse(NO_SECURITY_DEFINITION.code, ambiguousContract(q.symbol || q.localSymbol));
  return { ok: true, contract: matches[0]!, inst: matches[0]!.instrument, segments: wholeSegment(matches[0]!.instrument) };
}

/** `SPY@SMART Trades` */
function describeData(c: SimContract, whatToShow: string): string {
  return `${c.localSymbol}@${c.exchange} ${whatToShow.charAt(0)}${whatToShow.slice(1).toLowerCase()}`;
}

export async function planRequest(req: HistoricalRequest, ctx: SimContext, options: PlanOptions): Promise<{ ok: true; plan: HistPlan } | Refusal> {
  const target = parseBarSize(req.barSizeSetting);
  if (!target) return refuse(VALIDATION_ERROR, invalidRequest(`Historical data bar size setting is invalid. Legal ones are: ${LEGAL_BAR_SIZES}`));
  const duration = parseDuration(req.durationStr);
  if (!duration) return refuse(VALIDATION_ERROR, invalidRequest(`Historical data query duration '${req.durationStr}' is invalid. Format is 'integer{SPACE}unit(S|D|W|M|Y)'`));
  const kind = WHAT_TO_SHOW[req.whatToShow];
  if (!kind) return refuse(VALIDATION_ERROR, invalidRequest(`whatToShow '${req.whatToShow}' is not available; the simulator serves ${Object.keys(WHAT_TO_SHOW).join(', ')}`));
  const now = ctx.clock.now();
  const resolved = await resolveDataContract(ctx.store, req.contract, now);
  if (resolved.ok === false) return resolved;
  if (req.contract.secType === 'CONTFUT' && req.endDateTime) return refuse(CONTFUT_END_DATE.code, CONTFUT_END_DATE.text);
  if (req.keepUpToDate && req.endDateTime) return refuse(VALIDATION_ERROR, invalidRequest('End date not supported with live updates'));
  let end = now;
  if (req.endDateTime) {
    const parsed = parseEndDateTime(req.endDateTime, options.loginTimeZone);
    if (parsed === undefined) {
      return refuse(VALIDATION_ERROR, invalidRequest(`Historical data query end date/time string [${req.endDateTime}] is invalid. Format is 'YYYYMMDD{SPACE}hh:mm:ss[{SPACE}TMZ]'`));
    }
    // the simulated present is the edge of the data: nothing after it exists yet
    end = Math.min(parsed, now);
  }
  // IB's duration/step table is enforced for second bars only: minute bars over longer spans are served in practice
  const step = intervalMs(target);
  if (step <= SMALL_BAR_MS && step < smallestBarSeconds(duration) * 1000) return refuse(HMDS_ERROR, TIME_LENGTH_EXCEEDED);
  const { contract, inst, segments } = resolved;
  const what = describeData(contract, req.whatToShow);
  const start = durationStart(inst, end, duration);
  // no fitting interval is still a valid request (it counts for pacing); the feature answers no data
  const source = chooseSource(target, await availableIntervals(ctx.store, segments, kind.needs, start - intervalMs(target) - 2 * DAY_MS, end));
  const volumeDivisor = inst.secType === 'STK' && options.stockVolumeInLots ? 100 : 1;
  return { ok: true, plan: { req, contract, inst, segments, target, source, kind, start, end, zone: exchangeZone(inst), volumeDivisor, what } };
}

/** A built bar with its bucket start (live updates track the forming bucket by it). */
export interface PlannedBar {
  start: number;
  bar: WireBar;
}

/** Bars whose bucket ends after `from`, from source bars complete by `visibleTo`. */
export async function buildBars(store: Store, plan: HistPlan, from: number, visibleTo: number): Promise<PlannedBar[]> {
  const { inst, target, source, req } = plan;
  if (!source) return [];
  // load whole buckets: the one containing `from` starts up to one bar earlier (plus a day for UTC-stamped daily bars)
  const loadFrom = from - intervalMs(target) - (isIntraday(target) ? 0 : 2 * DAY_MS);
  const rth = req.useRTH && isIntraday(source) ? regularHours(inst, loadFrom, visibleTo) : undefined;
  const clip = isIntraday(target) && isIntraday(source) ? (rth ?? (inst.secType === 'FUT' ? sessionHours(inst, loadFrom, visibleTo) : undefined)) : undefined;
  const legs: OutBar[][] = [];
  for (const kind of plan.kind.legs) {
    const src = await loadSegments(store, plan.segments, source, kind, plan.kind.adjusted, loadFrom, visibleTo);
    legs.push(aggregate(src, { inst, source, target, from, visibleTo, rth, clip }));
  }
  const zoneId = ibTimeZoneId(plan.zone);
  const time = (b: OutBar) => (isIntraday(target) ? formatInstant(b.time, req.formatDate, plan.zone, zoneId) : compactDate(b.date!));
  if (req.whatToShow === 'BID_ASK') {
    // IB's BID_ASK bar: time-average bid, max ask, min bid, time-average ask
    const asks = new Map(legs[1]!.map((b) => [b.start, b]));
    return legs[0]!.flatMap((bid) => {
      const ask = asks.get(bid.start);
      if (!ask) return [];
      return [{ start: bid.start, bar: { time: time(bid), open: bid.meanClose, high: ask.high, low: bid.low, close: ask.meanClose, volume: -1, wap: -1, count: -1 } }];
    });
  }
  const trades = plan.kind.legs[0] === 'trade';
  return legs[0]!.map((b) => ({
    start: b.start,
    bar: {
      time: time(b),
      open: b.open,
      high: b.high,
      low: b.low,
      close: b.close,
      // quotes have no volume or WAP in IB's bars; the store keeps no trade counts
      volume: trades ? b.volume / plan.volumeDivisor : -1,
      wap: trades ? b.wap : -1,
      count: -1,
    },
  }));
}
