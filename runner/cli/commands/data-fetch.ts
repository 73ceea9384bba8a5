/**
 * `monger data fetch`: historical bars from TWS / IB Gateway (or `monger gateway-sim`) into the
 * store, paced by IB's rules and resumable (lib/ib/history-fetch.ts).
 */
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../../lib/core/errors.js';
import { createLogger, type LogRecord } from '../../../lib/core/logger.js';
import { parseIsoDate } from '../../../lib/core/time-zone.js';
import { INTERVALS, parseInterval, type Interval } from '../../../lib/data/interval.js';
import { parseWatchlist } from '../../../lib/data/watchlist.js';
import { fetchHistory, FETCHABLE_WHAT_TO_SHOW, type FetchHistoryResult, type FetchWhatToShow } from '../../../lib/ib/history-fetch.js';
import type { HistorySecType } from '../../../lib/ib/history-plan.js';
import { IbSession } from '../../../lib/ib/ib-session.js';
import { EXIT } from '../exit-codes.js';
import { info, printJson, printTable } from '../output.js';
import { terminalProgress } from '../progress-bar.js';
import { withStore } from '../store-option.js';

interface Flags {
  symbols?: string;
  watchlist?: string;
  interval: string;
  from: string;
  to: string;
  what: string;
  rth?: boolean;
  secType: string;
  exchange?: string;
  currency: string;
  host?: string;
  port?: string;
  clientId?: string;
  retryEmpty?: boolean;
  fillGaps?: boolean;
  pacing: string;
  maxInFlight: string;
  timeout: string;
  volumeLot?: string;
  json?: boolean;
  progress: boolean;
}

export interface FetchCommandOptions {
  symbols: string[];
  interval: Interval;
  from: string;
  to: string;
  whatToShow: FetchWhatToShow;
  useRTH: boolean;
  secType: HistorySecType;
  exchange?: string;
  currency: string;
  host: string;
  port: number;
  clientId: number;
  retryEmpty: boolean;
  fillGaps: boolean;
  pacingScope: 'all' | 'small-bars';
  maxInFlight: number;
  requestTimeoutMs: number;
  volumeLot?: number;
}

/** Flags (then IB_HOST / IB_PORT / IB_CLIENT_ID, then defaults) into options, listing every problem. */
export function fetchOptionsFromFlags(f: Flags, env: NodeJS.ProcessEnv = process.env): FetchCommandOptions {
  const problems: string[] = [];
  let symbols: string[] = [];
  if (f.symbols && f.watchlist) problems.push('give --symbols or --watchlist, not both');
  else if (f.symbols) symbols = f.symbols.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
  else if (f.watchlist) {
    try {
      symbols = parseWatchlist(readFileSync(f.watchlist), f.watchlist).symbols;
    } catch (e) {
      problems.push(`--watchlist: ${(e as Error).message}`);
    }
  } else problems.push('give the symbols: --symbols SPY,AAPL or --watchlist FILE');
  if ((f.symbols || f.watchlist) && symbols.length === 0 && !problems.length) problems.push('no symbols given');
  let interval: Interval = '1m';
  try {
    interval = parseInterval(f.interval);
  } catch (e) {
    problems.push(`--interval: ${(e as Error).message}`);
  }
  for (const [flag, v] of [
    ['--from', f.from],
    ['--to', f.to],
  ] as const) {
    try {
      parseIsoDate(v);
    } catch (e) {
      problems.push(`${flag}: ${(e as Error).message}`);
    }
  }
  const whatToShow = f.what.toUpperCase() as FetchWhatToShow;
  if (!(FETCHABLE_WHAT_TO_SHOW as readonly string[]).includes(whatToShow)) problems.push(`--what: expected ${FETCHABLE_WHAT_TO_SHOW.map((w) => w.toLowerCase()).join(', ')}, was '${f.what}'`);
  const secType = f.secType.toUpperCase() as HistorySecType;
  if (!['STK', 'FUT', 'CASH'].includes(secType)) problems.push(`--sec-type: expected STK, FUT or CASH, was '${f.secType}'`);
  const host = f.host ?? env.IB_HOST ?? '127.0.0.1';
  const portText = f.port ?? env.IB_PORT ?? '4002';
  const port = Number(portText);
  if (!(Number.isInteger(port) && port > 0 && port < 65536)) problems.push(`--port / IB_PORT: expected 1..65535, was '${portText}'`);
  const idText = f.clientId ?? env.IB_CLIENT_ID ?? '7';
  const clientId = Number(idText);
  if (!Number.isInteger(clientId) || clientId < 0) problems.push(`--client-id / IB_CLIENT_ID: expected an integer >= 0, was '${idText}'`);
  if (f.pacing !== 'all' && f.pacing !== 'small-bars') problems.push(`--pacing: expected all or small-bars, was '${f.pacing}'`);
  const maxInFlight = Number(f.maxInFlight);
  if (!(Number.isInteger(maxInFlight) && maxInFlight >= 1 && maxInFlight <= 50)) problems.push(`--max-in-flight: expected 1..50, was '${f.maxInFlight}'`);
  const timeout = Number(f.timeout);
  if (!(timeout > 0)) problems.push(`--timeout: expected seconds > 0, was '${f.timeout}'`);
  const volumeLot = f.volumeLot === undefined ? undefined : Number(f.volumeLot);
  if (volumeLot !== undefined && !(volumeLot > 0)) problems.push(`--volume-lot: expected a positive number, was '${f.volumeLot}'`);
  if (problems.length) throw new ConfigError('monger data fetch', problems);
  return {
    symbols,
    interval,
    from: f.from,
    to: f.to,
    whatToShow,
    useRTH: f.rth === true,
    secType,
    exchange: f.exchange,
    currency: f.currency.toUpperCase(),
    host,
    port,
    clientId,
    retryEmpty: f.retryEmpty === true,
    fillGaps: f.fillGaps === true,
    pacingScope: f.pacing as 'all' | 'small-bars',
    maxInFlight,
    requestTimeoutMs: timeout * 1000,
    volumeLot,
  };
}

const day = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toISOString().replace('.000Z', 'Z'));

export function printFetchResult(r: FetchHistoryResult): void {
  printTable(
    r.symbols.map((s) => ({
      symbol: s.symbol,
      conId: s.conId,
      units: s.units,
      stored: s.skippedStored,
      'known empty': s.skippedEmpty,
      requests: s.requests,
      bars: s.bars,
      empty: s.empty,
      failed: s.failed,
      first: day(s.first),
      last: day(s.last),
    })),
  );
  const seconds = r.elapsedMs / 1000;
  const rate = seconds > 0 ? Math.round(r.bars / seconds) : 0;
  info(
    `${r.requested} requests, ${r.bars.toLocaleString('en-US')} bars (${r.written.inserted} new, ${r.written.updated} changed) in ${seconds.toFixed(1)} s (${rate} bars/s); ` +
      `${r.pacingWaits} pacing waits (${(r.pacingWaitMs / 1000).toFixed(1)} s), ${r.pacingViolations} pacing violations, ${r.retries} retries; ` +
      `${r.skippedStored} units already stored, ${r.skippedEmpty} known empty`,
  );
  for (const f of r.failed.slice(0, 20)) info(`  failed: ${f.request}: ${f.code ?? ''} ${f.message}`);
  if (r.failed.length > 20) info(`  … and ${r.failed.length - 20} more failures`);
}

export function registerFetchCommand(data: Command): void {
  data
    .command('fetch')
    .description('Fetch historical bars from TWS / IB Gateway into the store, paced by IB rules; a rerun asks only for what is missing')
    .option('--symbols <list>', 'comma-separated symbols (futures ROOT-YYYYMM, cash EUR.USD)')
    .option('--watchlist <file>', 'watchlist CSV (one symbol per line)')
    .addOption(new Option('--interval <interval>', 'bar interval (weeks and months: fetch 1d)').choices(INTERVALS.filter((i) => i !== '1w' && i !== '1M')).makeOptionMandatory())
    .requiredOption('--from <date>', 'first trading date (YYYY-MM-DD)')
    .requiredOption('--to <date>', 'last trading date (YYYY-MM-DD), inclusive')
    .option('--what <what>', `what to show: ${FETCHABLE_WHAT_TO_SHOW.map((w) => w.toLowerCase()).join(', ')}`, 'trades')
    .option('--rth', 'regular trading hours only (default: extended hours included)')
    .option('--sec-type <type>', 'STK, FUT or CASH', 'STK')
    .option('--exchange <exchange>', 'exchange (default SMART for stocks, IDEALPRO for cash; required for futures)')
    .option('--currency <ccy>', 'currency', 'USD')
    .option('--host <host>', 'TWS / Gateway host (default $IB_HOST or 127.0.0.1)')
    .option('--port <n>', 'TWS / Gateway port (default $IB_PORT or 4002)')
    .option('--client-id <n>', 'API client id (default $IB_CLIENT_ID or 7)')
    .option('--retry-empty', 'ask again for sessions an earlier fetch found empty')
    .option('--fill-gaps', 'intraday: fetch again stored sessions whose regular hours miss bars the calendar expects (the audit\'s gaps)')
    .option('--pacing <scope>', 'apply the pacing rules to all bar sizes, or only to bars of 30 s or less (as IB documents)', 'all')
    .option('--max-in-flight <n>', 'requests open at once (IB allows 50)', '4')
    .option('--timeout <s>', 'seconds to wait for one answer before cancelling and retrying', '60')
    .option('--volume-lot <n>', 'shares per reported volume unit (default 100 for stocks: IB reports lots)')
    .option('--json', 'print the full result as JSON')
    .option('--no-progress', 'no progress bar')
    .addHelpText('after', '\nExit code 5 when some requests failed (the rest is stored; a rerun retries them).')
    .action(async (flags: Flags, cmd: Command) => {
      const o = fetchOptionsFromFlags(flags);
      const logger = createLogger({ level: 'warn', now: Date.now, sink: logToStderr });
      const bar = terminalProgress(flags.progress && !flags.json);
      const result = await withStore(cmd, async (store) => {
        const session = new IbSession({ host: o.host, port: o.port, clientId: o.clientId, maxAttempts: 3, connectTimeoutMs: 10_000, logger });
        session.start();
        let started = false;
        try {
          return await fetchHistory({
            session,
            store,
            symbols: o.symbols,
            secType: o.secType,
            exchange: o.exchange,
            currency: o.currency,
            interval: o.interval,
            from: o.from,
            to: o.to,
            whatToShow: o.whatToShow,
            useRTH: o.useRTH,
            retryEmpty: o.retryEmpty,
            fillGaps: o.fillGaps,
            volumeLot: o.volumeLot,
            maxInFlight: o.maxInFlight,
            requestTimeoutMs: o.requestTimeoutMs,
            readyTimeoutMs: 30_000,
            pacing: { scope: o.pacingScope },
            logger,
            onProgress: (p) => {
              if (p.phase === 'planned' && p.total > 0) {
                bar.start(p.total, 'fetch');
                started = true;
              } else if (started && (p.phase === 'request' || p.phase === 'waiting')) {
                bar.update(p.done, { rows: p.bars, file: p.phase === 'waiting' ? `pacing: waiting ${Math.ceil((p.waitMs ?? 0) / 1000)} s` : (p.request ?? '') });
              }
            },
          });
        } finally {
          if (started) bar.stop();
          session.stop();
        }
      });
      if (flags.json) printJson(result);
      else printFetchResult(result);
      if (result.failed.length > 0) process.exitCode = EXIT.CHECK_FAILED;
    });
}

function logToStderr(r: LogRecord): void {
  const fields = Object.keys(r.fields).length ? ` ${JSON.stringify(r.fields)}` : '';
  process.stderr.write(`monger ${r.level} ${r.message}${fields}\n`);
}
