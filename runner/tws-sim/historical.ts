/**
 * Historical bars over the TWS protocol: REQ_HISTORICAL_DATA (20) answered by one
 * historicalData (17) message, keepUpToDate streams of historicalDataUpdate (90) as the sim clock
 * moves, CANCEL_HISTORICAL_DATA (25), and REQ/CANCEL_HEAD_TIMESTAMP (87/90). Requests pass IB's
 * pacing rules first (pacing.ts).
 */
import { intervalMs } from '../../lib/data/interval.js';
import { headTimestamp, readHeadTimestampRequest } from './head-timestamp.js';
import { historicalDataFields, historicalDataUpdateFields, formatInstant, type WireBar } from './hist-format.js';
import { buildBars, planRequest, SMALL_BAR_MS, type HistPlan, type PlanOptions } from './hist-plan.js';
import { readHistoricalRequest } from './hist-request.js';
import { HMDS_ERROR, noData, queryCancelled } from './ib-errors.js';
import { PacingGuard } from './pacing.js';
import { ibTimeZoneId } from './trading-hours.js';
import { OUT, type ClientConnection, type FieldReader, type RequestHandler, type SimContext, type SimFeature } from './types.js';

export interface HistoricalOptions extends Partial<PlanOptions> {
  /** The pacing rules to enforce (default: IB's, on wall time); false disables pacing */
  pacing?: PacingGuard | false;
  /** How often keepUpToDate subscriptions look at the sim clock, in real ms (default 1000) */
  updateIntervalMs?: number;
}

/** An answered-or-not request: in flight, or a live keepUpToDate subscription. */
interface OpenRequest {
  conn: ClientConnection;
  reqId: number;
  cancelled: boolean;
  timer?: NodeJS.Timeout;
}

const barSignature = (b: WireBar): string => JSON.stringify(b);

export function historicalFeature(options: HistoricalOptions = {}): SimFeature {
  const planOptions: PlanOptions = { loginTimeZone: options.loginTimeZone ?? 'America/New_York', stockVolumeInLots: options.stockVolumeInLots ?? true };
  const pacing = options.pacing === false ? undefined : (options.pacing ?? new PacingGuard({ now: Date.now }));
  const updateIntervalMs = options.updateIntervalMs ?? 1000;
  const open = new Map<string, OpenRequest>();
  const heads = new Map<string, { cancelled: boolean }>();
  const watched = new WeakSet<ClientConnection>();
  const keyOf = (conn: ClientConnection, reqId: number) => `${conn.id}:${reqId}`;

  /** Ends a request: stops its updates and frees its pacing slot; `notify` sends IB's cancel confirmation. */
  const stop = (key: string, notify: boolean): void => {
    const r = open.get(key);
    if (!r) return;
    r.cancelled = true;
    if (r.timer) clearInterval(r.timer);
    open.delete(key);
    pacing?.release(key);
    if (notify && r.conn.open) r.conn.error(r.reqId, HMDS_ERROR, queryCancelled(r.reqId));
  };

  const watch = (conn: ClientConnection): void => {
    if (watched.has(conn)) return;
    watched.add(conn);
    conn.onClose(() => {
      for (const [key, r] of open) if (r.conn === conn) stop(key, false);
      for (const key of heads.keys()) if (key.startsWith(`${conn.id}:`)) heads.delete(key);
    });
  };

  /** Sends historicalDataUpdate for every bucket that formed or changed since the last look. */
  const follow = (key: string, entry: OpenRequest, plan: HistPlan, ctx: SimContext, last: { start: number; signature: string }): void => {
    let busy = false;
    const tick = async () => {
      if (busy || entry.cancelled) return;
      if (!entry.conn.open) return stop(key, false);
      busy = true;
      try {
        for (const b of await buildBars(ctx.store, plan, last.start, ctx.clock.now())) {
          if (entry.cancelled || b.start < last.start) continue;
          const signature = barSignature(b.bar);
          if (b.start === last.start && signature === last.signature) continue;
          entry.conn.send(historicalDataUpdateFields(entry.reqId, b.bar));
          last.start = b.start;
          last.signature = signature;
        }
      } catch (e) {
        stop(key, false);
        entry.conn.error(entry.reqId, HMDS_ERROR, noData(`${plan.what} (${(e as Error).message})`));
      } finally {
        busy = false;
      }
    };
    entry.timer = setInterval(() => void tick(), updateIntervalMs);
    entry.timer.unref();
  };

  const requestData: RequestHandler = async (conn, fields, ctx) => {
    const req = readHistoricalRequest(fields);
    const key = keyOf(conn, req.reqId);
    const planned = await planRequest(req, ctx, planOptions);
    if (planned.ok === false) return conn.error(req.reqId, planned.code, planned.message);
    const { plan } = planned;
    watch(conn);
    stop(key, false); // a reused reqId replaces the old request
    const decision = pacing?.admit({
      id: key,
      key: `${plan.contract.conId}@${plan.contract.exchange}:${req.whatToShow}`,
      signature: JSON.stringify({ ...req, reqId: undefined }),
      weight: req.whatToShow === 'BID_ASK' ? 2 : 1,
      smallBars: intervalMs(plan.target) <= SMALL_BAR_MS,
    });
    if (decision?.ok === false) return conn.error(req.reqId, HMDS_ERROR, decision.message);
    // nothing stored fits: still a request as far as pacing goes, answered at once
    if (!plan.source) {
      pacing?.release(key);
      return conn.error(req.reqId, HMDS_ERROR, noData(plan.what));
    }
    // open (and counted by the pacing guard) until answered, or while keepUpToDate streams
    const entry: OpenRequest = { conn, reqId: req.reqId, cancelled: false };
    open.set(key, entry);
    let bars;
    try {
      bars = await buildBars(ctx.store, plan, plan.start, plan.end);
    } catch (e) {
      stop(key, false);
      throw e;
    }
    if (entry.cancelled) return;
    if (!req.keepUpToDate) stop(key, false);
    if (bars.length === 0 && !req.keepUpToDate) return conn.error(req.reqId, HMDS_ERROR, noData(plan.what));
    const zoneId = ibTimeZoneId(plan.zone);
    const text = (ms: number) => formatInstant(ms, req.formatDate, plan.zone, zoneId);
    conn.send(historicalDataFields(req.reqId, text(plan.start), text(plan.end), bars.map((b) => b.bar)));
    if (req.keepUpToDate) {
      const lastBar = bars[bars.length - 1];
      follow(key, entry, plan, ctx, lastBar ? { start: lastBar.start, signature: barSignature(lastBar.bar) } : { start: plan.start, signature: '' });
    }
  };

  const cancelData: RequestHandler = (conn, fields) => {
    fields.int(); // version
    // unknown or already answered ids are ignored: IBApiNext cancels after completion too
    stop(keyOf(conn, fields.int()), true);
  };

  const requestHead: RequestHandler = async (conn, fields: FieldReader, ctx) => {
    const req = readHeadTimestampRequest(fields);
    const key = keyOf(conn, req.reqId);
    const state = { cancelled: false };
    watch(conn);
    heads.set(key, state);
    try {
      const answer = await headTimestamp(req, ctx);
      if (state.cancelled) return;
      if (answer.ok === true) conn.send(answer.fields);
      else conn.error(req.reqId, answer.code, answer.message);
    } finally {
      if (heads.get(key) === state) heads.delete(key);
    }
  };

  const cancelHead: RequestHandler = (conn, fields) => {
    const key = keyOf(conn, fields.int());
    const state = heads.get(key);
    if (state) state.cancelled = true;
    heads.delete(key);
  };

  return {
    name: 'historical',
    handlers: new Map<number, RequestHandler>([
      [OUT.REQ_HISTORICAL_DATA, requestData],
      [OUT.CANCEL_HISTORICAL_DATA, cancelData],
      [OUT.REQ_HEAD_TIMESTAMP, requestHead],
      [OUT.CANCEL_HEAD_TIMESTAMP, cancelHead],
    ]),
    close() {
      for (const key of [...open.keys()]) stop(key, false);
      heads.clear();
    },
  };
}
