import { connect, type Socket } from 'node:net';
import { EventName, IBApi, SecType, type Contract } from '@stoqey/ib';
import { calendarForInstrument } from '../../lib/calendar/index.js';
import { SeededRandom } from '../../lib/core/seeded-random.js';
import { fetchHistory, type FetchHistoryResult } from '../../lib/ib/history-fetch.js';
import { maxSessionsPerRequest } from '../../lib/ib/history-plan.js';
import { IB_HISTORY_LIMITS } from '../../lib/ib/history-scheduler.js';
import { IbSession } from '../../lib/ib/ib-session.js';
import { importFiles } from '../../lib/ingest/import-files.js';
import { Store } from '../../lib/store/store.js';
import { contractDetailsFeature } from '../../runner/tws-sim/contract-details.js';
import { historicalFeature } from '../../runner/tws-sim/historical.js';
import { marketDataFeature } from '../../runner/tws-sim/market-data.js';
import { PacingGuard } from '../../runner/tws-sim/pacing.js';
import { StoreQuoteBook } from '../../runner/tws-sim/replay-quotes.js';
import { TwsSimulator } from '../../runner/tws-sim/server.js';
import { replayClock } from '../../runner/tws-sim/sim-clock.js';
import { encodeRequest } from '../../runner/tws-sim/test-wire.js';
import { IN, OUT, type SimClock } from '../../runner/tws-sim/types.js';
import { encodeFrame, encodeHandshake, FrameReader } from '../../runner/tws-sim/wire.js';
import type { BenchReport } from './harness.js';

const MINUTE_DIR = 'data/lean/equity/usa/minute';
const MINUTE = 60_000;
const RUNS = 3;

/**
 * The IB layer's two throughput figures, both over real TCP on 127.0.0.1 with the simulator in
 * this process (server and client share one event loop and one core, as in the integration tests):
 *
 * 1. Simulator -> ONE client: 100 reqMktData lines (IB's per-client limit) on four stocks, pushed
 *    every 1 ms while an accelerated replay clock loops over one regular session (one simulated
 *    minute per real ms, so every push carries new ticks). The stream saturates the process; the
 *    IBApi client's decoded messages per second are compared with the frames per second of a raw
 *    TCP client that sends the same requests and only counts frames (FrameReader). Both rates
 *    include the simulator's own cost per message, so the ratio is (sim + FrameReader) / (sim +
 *    @stoqey/ib decoding and events) per message: it shows what the decoder costs, but understates
 *    it against a TWS in another process.
 * 2. fetchHistory of real LEAN minute trades (SPY and IBM, 6 sessions each = 12 "1 D" requests)
 *    from a simulator enforcing IB's pacing on every bar size into an in-memory store, against the
 *    same fetch with pacing off on both sides. 12 requests stay inside one 60-per-10-minutes
 *    window, so the paced figure is bound by the burst rule (< 6 per contract per 2 s); the
 *    long-run ceiling under the window rule is computed, not measured.
 */
export async function ibBenchmarks(): Promise<BenchReport> {
  return { ...(await streamBenchmarks()), ...(await fetchBenchmarks()) };
}

// ---- 1. simulator -> one client ----

const STREAM_SYMBOLS = ['SPY', 'IBM', 'BAC', 'AIG'];
const STREAM_FILES = STREAM_SYMBOLS.flatMap((s) => ['trade', 'quote'].map((k) => `${MINUTE_DIR}/${s.toLowerCase()}/20131007_${s.toLowerCase()}_minute_${k}.csv`));
/** IB's default market-data lines per client */
const LINES = 100;
/** 2013-10-07 09:30 New York */
const SESSION_OPEN = Date.UTC(2013, 9, 7, 13, 30);
const SESSION_MINUTES = 390;
/** One simulated minute per real ms: every 1 ms push sees newly closed bars */
const SPEED = MINUTE;
const STREAM_WINDOW_MS = 2500;
/** Subscriptions answered and quotes loaded before the window opens */
const STREAM_SETTLE_MS = 300;

/** Connection-level notices TWS sends after START_API (not failures). */
const FARM_CODES = new Set([2104, 2106, 2158]);

interface StreamSample {
  messages: number;
  bytes: number;
  ms: number;
}

/** The replay clock over [open + 1 min, close + 1 min) of one session, again and again. */
function loopingSessionClock(): SimClock {
  const t0 = performance.now();
  const loopRealMs = (SESSION_MINUTES * MINUTE) / SPEED;
  return replayClock({ start: SESSION_OPEN + MINUTE, speed: SPEED, now: () => (performance.now() - t0) % loopRealMs });
}

const stock = (symbol: string): Contract => ({ symbol, secType: SecType.STK, exchange: 'SMART', currency: 'USD' });
const lineContract = (reqId: number): Contract => stock(STREAM_SYMBOLS[reqId % STREAM_SYMBOLS.length]!);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

async function until(what: string, ok: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`ib bench: timed out waiting for ${what}`);
    await sleep(5);
  }
}

interface Counters {
  messages: number;
  bytes: number;
  /** Frames as received before decoding (IBApi client only: checks the decoded count) */
  frames?: number;
}

/** What the counters gained over [settle, settle + window) of a running stream. */
async function window(count: () => Counters): Promise<StreamSample & { frames?: number }> {
  await sleep(STREAM_SETTLE_MS);
  const a = count();
  const t0 = performance.now();
  await sleep(STREAM_WINDOW_MS);
  const b = count();
  const ms = performance.now() - t0;
  const frames = a.frames === undefined || b.frames === undefined ? undefined : b.frames - a.frames;
  return { messages: b.messages - a.messages, bytes: b.bytes - a.bytes, frames, ms };
}

/**
 * One real IBApi client. Messages are counted from decoded events: every tickPrice,
 * tickString, tickReqParams and marketDataType event is one message; a tickSize event is one
 * unless it is the size stoqey synthesizes from the tickPrice just before (ASK and LAST carry
 * their size; BID's is never synthesized by @stoqey/ib 1.6.10, see md-ticks.ts). stoqey's
 * `received` event (one per frame, before decoding) gives the frame count the decoded count must
 * equal, and the bytes (the frame's text plus its 4-byte length prefix; tick frames are ASCII).
 */
async function ibapiStream(port: number, clientId: number): Promise<StreamSample> {
  const api = new IBApi({ host: '127.0.0.1', port, maxReqPerSec: 1000 });
  let messages = 0;
  let bytes = 0;
  let frames = 0;
  let synthesized = -1;
  const failures: string[] = [];
  api.on(EventName.tickPrice, (_id: number, type: number) => {
    messages++;
    synthesized = type === 2 ? 3 : type === 4 ? 5 : -1;
  });
  api.on(EventName.tickSize, (_id: number, type: number | undefined) => {
    if (type !== synthesized) messages++;
    synthesized = -1;
  });
  const one = () => {
    messages++;
    synthesized = -1;
  };
  api.on(EventName.tickString, one);
  api.on(EventName.tickReqParams, one);
  api.on(EventName.marketDataType, one);
  // typed with the tokens only; stoqey passes the frame's text second
  const received = (_tokens: string[], data: string) => {
    frames++;
    bytes += data.length + 4;
  };
  api.on(EventName.received, received as unknown as (tokens: string[]) => void);
  api.on(EventName.error, (e: Error, code: number, reqId: number) => {
    if (!FARM_CODES.has(code)) failures.push(`${code} (req ${reqId}): ${e?.message}`);
  });
  let ready = false;
  api.once(EventName.nextValidId, () => (ready = true));
  api.connect(clientId);
  try {
    await until('the IBApi client to start', () => ready || failures.length > 0);
    if (failures.length) throw new Error(`ib bench: the IBApi client could not start: ${failures.join('; ')}`);
    for (let reqId = 0; reqId < LINES; reqId++) api.reqMktData(reqId, lineContract(reqId), '', false, false);
    const sample = await window(() => ({ messages, bytes, frames }));
    if (failures.length) throw new Error(`ib bench: the IBApi client got errors: ${failures.slice(0, 3).join('; ')}`);
    if (sample.messages === 0 || sample.messages !== sample.frames) {
      throw new Error(`ib bench: the IBApi client decoded ${sample.messages} messages from ${sample.frames} frames`);
    }
    return sample;
  } finally {
    api.disconnect();
  }
}

/** A raw TCP client: handshake, START_API, the same reqMktData frames (built by stoqey's Encoder); counts frames and bytes. */
async function rawStream(port: number, clientId: number): Promise<StreamSample> {
  const socket: Socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  const reader = new FrameReader();
  let messages = 0;
  let bytes = 0;
  let version = 0;
  let ready = false;
  const failures: string[] = [];
  socket.on('error', (e) => failures.push(e.message));
  socket.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    for (const m of reader.push(chunk)) {
      if (m.kind !== 'frame') continue;
      messages++;
      const f = m.fields;
      if (version === 0) {
        version = Number(f[0]);
        socket.write(encodeFrame([OUT.START_API, 2, clientId, '']));
      } else if (!ready && Number(f[0]) === IN.NEXT_VALID_ID) {
        ready = true;
      } else if (Number(f[0]) === IN.ERR_MSG && !FARM_CODES.has(Number(f[3]))) {
        failures.push(`${f[3]} (req ${f[2]}): ${f[4]}`);
      }
    }
  });
  socket.write(encodeHandshake(100, 193));
  try {
    await until('the raw client to start', () => ready || failures.length > 0);
    if (failures.length) throw new Error(`ib bench: the raw client could not start: ${failures.join('; ')}`);
    const requests = Array.from({ length: LINES }, (_, reqId) => {
      const { msgId, fields } = encodeRequest(version, (enc) => enc.reqMktData(reqId, lineContract(reqId), '', false, false));
      return encodeFrame([msgId, ...fields]);
    });
    socket.write(Buffer.concat(requests));
    const sample = await window(() => ({ messages, bytes }));
    if (failures.length) throw new Error(`ib bench: the raw client got errors: ${failures.slice(0, 3).join('; ')}`);
    if (sample.messages === 0) throw new Error('ib bench: the raw client counted no frames');
    return sample;
  } finally {
    socket.destroy();
  }
}

async function streamBenchmarks(): Promise<BenchReport> {
  const store = await Store.open(':memory:');
  const sim = new TwsSimulator({
    store,
    port: 0,
    clock: loopingSessionClock(),
    // 100 subscriptions at once from the raw client (the IBApi client spaces its own)
    maxMessagesPerSecond: 10_000,
    features: [marketDataFeature({ quotes: new StoreQuoteBook(store), tickIntervalMs: 1, maxLines: LINES })],
  });
  try {
    await importFiles(store, STREAM_FILES);
    const { port } = await sim.start();
    let clientId = 100;
    const run = async (fn: typeof rawStream): Promise<StreamSample> => {
      const sample = await fn(port, clientId++);
      // the server stops pushing once it has seen the close
      await until('the simulator to drop the client', () => sim.connections().length === 0);
      return sample;
    };
    // warm-up: quote books loaded, both decoders compiled
    await run(rawStream);
    await run(ibapiStream);
    const raw: StreamSample[] = [];
    const ib: StreamSample[] = [];
    for (let i = 0; i < RUNS; i++) {
      raw.push(await run(rawStream));
      ib.push(await run(ibapiStream));
    }
    const rate = (s: StreamSample) => s.messages / (s.ms / 1000);
    const mbps = (s: StreamSample) => s.bytes / 1e6 / (s.ms / 1000);
    const rawRate = median(raw.map(rate));
    const ibRate = median(ib.map(rate));
    const rawMb = median(raw.map(mbps));
    const ibMb = median(ib.map(mbps));
    const what = `${LINES} mktData lines, ${STREAM_SYMBOLS.length} stocks, 1 ms push timer, replay 1 sim-min/ms, CPU-bound`;
    return {
      [`tws-sim -> one @stoqey/ib IBApi client, decoded messages/s (${what})`]: {
        value: ibRate,
        unit: 'msg/s',
        baseline: { name: 'raw TCP client counting frames (FrameReader), frames/s', value: rawRate },
        ratio: ibRate / rawRate,
      },
      [`tws-sim -> one @stoqey/ib IBApi client, wire MB/s (same stream)`]: {
        value: ibMb,
        unit: 'MB/s',
        baseline: { name: 'raw TCP client, MB/s', value: rawMb },
        ratio: ibMb / rawMb,
      },
    };
  } finally {
    await sim.stop();
    store.close();
  }
}

// ---- 2. historical ingest under IB's pacing ----

const FETCH_SYMBOLS = ['SPY', 'IBM'];
const FETCH_DAYS = ['20131004', '20131007', '20131008', '20131009', '20131010', '20131011'];
const FETCH_FILES = FETCH_SYMBOLS.flatMap((s) => FETCH_DAYS.map((d) => `${MINUTE_DIR}/${s.toLowerCase()}/${d}_${s.toLowerCase()}_minute_trade.csv`));
const FETCH_FROM = '2013-10-04';
const FETCH_TO = '2013-10-11';
/** The simulated present: the Monday after the data */
const FETCH_SIM_START = Date.UTC(2013, 9, 14, 12);
/** IB stock extended hours, 04:00-20:00 New York (history-plan's intraday units outside RTH) */
const EXTENDED_HOURS_BARS = 16 * 60;

interface FetchSample {
  result: FetchHistoryResult;
  seconds: number;
}

async function fetchOnce(source: Store, paced: boolean, clientId: number): Promise<FetchSample> {
  const pacing = paced ? new PacingGuard({ now: Date.now, allBarSizes: true }) : false;
  const sim = new TwsSimulator({
    store: source,
    port: 0,
    clock: replayClock({ start: FETCH_SIM_START, speed: 1 }),
    features: [contractDetailsFeature(), historicalFeature({ pacing })],
  });
  const target = await Store.open(':memory:');
  let live: IbSession | undefined;
  try {
    const { port } = await sim.start();
    live = new IbSession({ port, clientId, random: new SeededRandom(clientId), connectTimeoutMs: 3000, maxAttempts: 3 });
    live.start();
    await live.ready(5000);
    const t0 = performance.now();
    const result = await fetchHistory({
      session: live,
      store: target,
      symbols: FETCH_SYMBOLS,
      interval: '1m',
      from: FETCH_FROM,
      to: FETCH_TO,
      requestTimeoutMs: 10_000,
      // the baseline's scheduler knows no pacing rules either
      pacing: paced ? undefined : { limits: { identicalMs: 0, burstMs: 0, windowMs: 0 }, backoff: { baseMs: 100, maxMs: 1000 }, marginMs: 0 },
    });
    const seconds = (performance.now() - t0) / 1000;
    if (result.failed.length) throw new Error(`ib bench: fetch failed: ${result.failed.map((f) => `${f.request}: ${f.message}`).join('; ')}`);
    return { result, seconds };
  } finally {
    live?.stop();
    await sim.stop();
    target.close();
  }
}

async function fetchBenchmarks(): Promise<BenchReport> {
  const source = await Store.open(':memory:');
  try {
    await importFiles(source, FETCH_FILES);
    const [{ n: stored }] = (await source.all<{ n: number }>(`SELECT CAST(count(*) AS DOUBLE) AS n FROM bars`)) as [{ n: number }];
    let clientId = 300;
    await fetchOnce(source, false, clientId++); // warm-up
    const free: FetchSample[] = [];
    const paced: FetchSample[] = [];
    for (let i = 0; i < RUNS; i++) {
      free.push(await fetchOnce(source, false, clientId++));
      paced.push(await fetchOnce(source, true, clientId++));
    }
    for (const s of [...free, ...paced]) {
      if (s.result.bars !== stored) throw new Error(`ib bench: fetched ${s.result.bars} bars, the source holds ${stored}`);
    }
    const p = medianBy(paced, (s) => s.seconds);
    const f = medianBy(free, (s) => s.seconds);
    const requests = p.result.requested;
    process.stderr.write(
      `  ib fetch: ${requests} requests, ${p.result.bars} bars; paced median ${p.seconds.toFixed(2)} s ` +
        `(${p.result.pacingWaits} pacing waits, ${(p.result.pacingWaitMs / 1000).toFixed(2)} s waited, ${p.result.pacingViolations} violations), ` +
        `unpaced median ${f.seconds.toFixed(2)} s\n`,
    );
    const barsPerSec = (s: FetchSample) => s.result.bars / s.seconds;
    const reqPerSec = (s: FetchSample) => s.result.requested / s.seconds;

    // the window rule in the long run: windowCount requests per windowMs, one session per 1 min request
    const reqPerSecCeiling = IB_HISTORY_LIMITS.windowCount / (IB_HISTORY_LIMITS.windowMs / 1000);
    const nyse = calendarForInstrument('STK', 'SPY');
    const rthBars = nyse.expectedBarCount(nyse.session('2013-10-07')!, MINUTE);
    const perRequest = maxSessionsPerRequest('1m');
    const ceiling = (barsPerSession: number) => reqPerSecCeiling * perRequest * barsPerSession;
    const unpaced = barsPerSec(f);
    const label = `${FETCH_SYMBOLS.join('+')} 1m trades, ${FETCH_DAYS.length} days, ${requests} requests`;
    const rule = `${IB_HISTORY_LIMITS.windowCount} req/${IB_HISTORY_LIMITS.windowMs / MINUTE} min`;
    return {
      [`fetchHistory bars/s under IB pacing, all bar sizes (${label})`]: {
        value: barsPerSec(p),
        unit: 'bars/s',
        baseline: { name: 'same fetch, pacing off in sim and scheduler', value: unpaced },
        ratio: barsPerSec(p) / unpaced,
      },
      [`fetchHistory requests/s under IB pacing, all bar sizes (${label})`]: {
        value: reqPerSec(p),
        unit: 'req/s',
        baseline: { name: 'same fetch, pacing off in sim and scheduler', value: reqPerSec(f) },
        ratio: reqPerSec(p) / reqPerSec(f),
      },
      [`IB pacing long-run ceiling, 1m RTH days (${rthBars} bars/request, ${rule}) [COMPUTED, not measured]`]: {
        value: ceiling(rthBars),
        unit: 'bars/s',
        baseline: { name: 'measured unpaced fetch, bars/s', value: unpaced },
        ratio: ceiling(rthBars) / unpaced,
      },
      [`IB pacing long-run ceiling, 1m extended-hours days (${EXTENDED_HOURS_BARS} bars/request, ${rule}) [COMPUTED, not measured]`]: {
        value: ceiling(EXTENDED_HOURS_BARS),
        unit: 'bars/s',
        baseline: { name: 'measured unpaced fetch, bars/s', value: unpaced },
        ratio: ceiling(EXTENDED_HOURS_BARS) / unpaced,
      },
    };
  } finally {
    source.close();
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function medianBy<T>(xs: readonly T[], key: (x: T) => number): T {
  const s = [...xs].sort((a, b) => key(a) - key(b));
  return s[Math.floor(s.length / 2)]!;
}
