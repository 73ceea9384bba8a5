/**
 * An operator halts and lifts halts in a running runner without restarting it: replay against the
 * TWS simulator over TCP (real @stoqey/ib client) on the real SPY minute bars of 2013-10-08, moved in
 * lock step (runner/parity/lock-step.ts) so every step settles before time moves on, with the control
 * API enabled (`monger halt|resume|status` and the ControlClient send what an operator sends).
 *
 * A probe strategy buys 100 SPY at market whenever flat (from the bar closing 13:41), sells HOLD
 * minutes after its entry filled, and stops after two entries. Fills: the simulator's backtest model
 * (the next bar's open, IB fixed commission: 100 x 0.005 is under the 1 USD minimum, so 1 USD per
 * order). Starting cash 100,000; `drawdownHaltPct` 0.025 (25 USD). Timeline (UTC; the session opens
 * 13:30):
 *
 * - 13:40 `monger halt --reason …` (CLI): the entries at 13:41..13:45 are refused (journaled rejects).
 * - 13:45 `POST /resume { source: operator }`: the entry at 13:46 fills at 13:47 (13:46 bar's open
 *   167.48).
 * - 13:52 the drawdown breaker: the 13:51 bar closes at 167.21, equity 100,000 − 1 + 100 x
 *   (167.21 − 167.48) = 99,972, 0.028% under the 100,000 peak (13:51: 167.28, 0.021%, not yet).
 * - 13:55 `monger resume drawdown` without --confirm: refused (exit 5), nothing changes; refusals
 *   for a health source, an unknown source and a source not in force.
 * - The price recovers (the 13:55 bar closes at 167.56: equity 100,007, a new peak) and the exit at
 *   13:57 (a reducing order passes the halt) fills at 13:58 at 167.52 (equity 100,002), yet the
 *   drawdown halt stays (sticky): the entries at 13:58..14:16 are refused.
 * - 14:16 `POST /resume { source: drawdown, confirm: true }`: lifted, the peak re-based on the equity
 *   (100,002); the entry at 14:17 fills at 14:18 (167.36), the exit at 14:29 (167.47). Nothing
 *   halts again: the closes in between stay at or above 167.39.
 * - A restart: recovery of this journal up to the lift re-applies the drawdown halt; of the whole
 *   journal, not (the resume record), and a supervisor restored from it trades.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Kernel } from '../../lib/engine/kernel.js';
import { defineStrategy, type StrategyDefinition } from '../../lib/engine/strategy.js';
import type { JournalRecord } from '../../lib/journal/journal.js';
import { recoverFromRecords } from '../../lib/journal/recovery.js';
import type { ControlAnswer, ControlClient } from '../../runner/live/control-client.js';
import type { RunSummary } from '../../runner/live/live-runner.js';
import { supervisorRestore } from '../../runner/live/run-resume.js';
import { supervisedKernel } from '../../runner/live/supervisor-fixtures.js';
import type { OperatorStatus } from '../../runner/live/supervisor-operator.js';
import { CONTROL_TOKEN as TOKEN, importCloses, lockStepDriver, readRunJournal, runLockStep } from './lock-step-runner.js';

const MIN = 60_000;
const at = (h: number, m: number) => Date.UTC(2013, 9, 8, h, m);
const iso = (t: number) => new Date(t).toISOString();
const FROM = at(13, 25);
const TO = at(14, 35);
const START = at(13, 41);
const HOLD = 10 * MIN;
const HALT = at(13, 40);
const RESUME = at(13, 45);
const BREACH = at(13, 52);
const REFUSALS = at(13, 55);
const LIFT = at(14, 16);
/** After the second exit filled (the runner stops at TO: its control API with it) */
const LATE = at(14, 30);
const DRAWDOWN = 'drawdown 0.03% from the equity peak 100000.00 reached drawdownHaltPct 0.025';

const dir = mkdtempSync(join(tmpdir(), 'monger-control-halt-'));
const db = join(dir, 'bars.duckdb');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface ProbeLog {
  /** [time, type, side, reason] of the probe's fills and rejections */
  events: [string, string, string, string][];
}

function probeStrategy(log: ProbeLog): StrategyDefinition {
  return defineStrategy({
    name: 'halt-probe',
    version: '1.0.0',
    description: 'Buys 100 when flat, sells HOLD after the entry filled, two entries at most',
    params: z.object({}),
    create: (ctx) => {
      let entries = 0;
      let entryAt = -Infinity;
      return {
        onBar(bar) {
          if (bar.closeTime < START || ctx.openOrders(bar.instrument).length > 0) return;
          const position = ctx.portfolio.position(bar.instrument);
          if (position === 0 && entries < 2) ctx.submit(ctx.orders.market(bar.instrument, 'BUY', 100, { tag: 'entry' }));
          else if (position > 0 && bar.closeTime >= entryAt + HOLD) ctx.submit(ctx.orders.market(bar.instrument, 'SELL', position, { tag: 'exit' }));
        },
        onOrderEvent(e) {
          if (e.type === 'filled' && e.order.tag === 'entry') {
            entries++;
            entryAt = e.ts;
          }
          if (e.type === 'filled' || e.type === 'rejected') log.events.push([iso(e.ts).slice(11, 16), e.type, e.order.side, e.reason ?? '']);
        },
      };
    },
  }) as unknown as StrategyDefinition;
}

let closes: number[] = [];

beforeAll(async () => {
  closes = (await importCloses(db, ['data/lean/equity/usa/minute/spy/20131008_spy_minute_trade.csv'], ['SPY'], FROM, TO)).get('SPY')!;
});

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

interface RunResult {
  summary: RunSummary;
  stalls: string[];
  answers: Map<string, ControlAnswer>;
  cli: Map<string, CliResult>;
  statuses: Map<number, OperatorStatus>;
  kernel: Kernel;
  log: ProbeLog;
  journal: JournalRecord[];
}

async function replay(): Promise<RunResult> {
  const log: ProbeLog = { events: [] };
  const strategy = probeStrategy(log);
  let api: ControlClient | undefined;
  let port = 0;
  let kernel: Kernel | undefined;
  const answers = new Map<string, ControlAnswer>();
  const cliResults = new Map<string, CliResult>();
  const statuses = new Map<number, OperatorStatus>();
  const cli = async (name: string, args: string[]): Promise<void> => {
    const r = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'runner/cli/main.ts', ...args, '--port', String(port), '--token', TOKEN], { timeout: 60_000 }).then(
      (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
      (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
    );
    cliResults.set(name, r);
  };
  const status = async (t: number) => statuses.set(t, (await api!.status()).body as OperatorStatus);

  const driver = lockStepDriver({
    from: FROM,
    to: TO,
    expectedBars: (t) => closes.filter((c) => c <= t).length,
    streams: 1,
    afterStep: async (t): Promise<void> => {
      if (t === HALT) {
        await cli('halt', ['halt', '--reason', 'operator check']);
        await cli('halt again', ['halt', '--reason', 'a second reason', '--json']);
        await status(t);
      }
      if (t === RESUME) {
        answers.set('resume drawdown (not in force)', await api!.resume('drawdown', { confirm: true }));
        answers.set('resume operator', await api!.resume('operator'));
      }
      if (t === REFUSALS) {
        await status(t - 1);
        await cli('resume drawdown', ['resume', 'drawdown']);
        answers.set('resume health', await api!.resume('health:connection'));
        answers.set('resume unknown', await api!.resume('margin'));
        answers.set('resume operator (not in force)', await api!.resume('operator'));
        await status(t);
      }
      if (t === LIFT) {
        await status(t - 1);
        answers.set('resume drawdown confirmed', await api!.resume('drawdown', { confirm: true }));
        await cli('status', ['status', '--json']);
      }
      if (t === LATE) await status(t);
    },
  });
  const run = await runLockStep({
    name: 'control-halt',
    driver,
    strategy,
    symbols: ['SPY'],
    db,
    journal: join(dir, 'journal.duckdb'),
    from: FROM,
    to: TO,
    startingCash: 100_000,
    risk: { drawdownHaltPct: 0.025 },
    onAttach: (parts) => (kernel = parts.kernel),
    onControl: (client, a) => {
      port = a.port;
      api = client;
    },
  });
  return { summary: run.summary, stalls: driver.stalls, answers, cli: cliResults, statuses, kernel: kernel!, log, journal: await readRunJournal(run) };
}

const errorOf = (a: ControlAnswer | undefined) => (a?.body as { error?: { code: string; message: string } }).error;
const payload = (j: JournalRecord) => j.payload as { type?: string; source?: string; reason?: string; context?: Record<string, unknown> };
/** The journal's halt and resume records other than the session guard's, as `kind source HH:MM` */
const haltRecords = (r: RunResult) =>
  r.journal.filter((j) => (j.kind === 'halt' || j.kind === 'resume') && payload(j).source !== 'session').map((j) => `${j.kind} ${payload(j).source} ${iso(j.ts!).slice(11, 16)}`);

describe('runner: operator halts and lifts through the control API (lock-step replay)', () => {
  let r: RunResult;
  beforeAll(async () => {
    r = await replay();
    console.info(`control halt: ${r.log.events.map((e) => `${e[0]} ${e[1]} ${e[2]}`).join(', ')}`);
  }, 300_000);

  it('runs the whole replay without a stall, flat at the end, no halt in force', () => {
    expect(r.stalls).toEqual([]);
    expect(r.summary.stopReason).toBe('end of replay');
    expect(r.summary.positions).toEqual({});
    expect(r.summary.haltedAtEnd).toEqual({});
    expect(r.summary.halts.filter((h) => !h.startsWith('session '))).toEqual(['operator', 'drawdown']);
  });

  it('operator halt (monger halt): entries refused and journaled; idempotent; resume lifts it and the next entry fills', () => {
    const halt = r.cli.get('halt')!;
    expect(halt.code).toBe(0);
    expect(halt.stderr).toContain(`halted (whole book) at ${iso(HALT)}: operator check`);
    const again = r.cli.get('halt again')!;
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ already: true, halted: { source: 'operator', detail: 'operator check' } });
    expect(r.statuses.get(HALT)).toMatchObject({ mode: 'replay', strategy: 'halt-probe@1.0.0', halted: true, halts: [{ source: 'operator', since: iso(HALT), detail: 'operator check', lift: 'operator' }], positions: [], workingOrders: 0, sessions: { SPY: { phase: 'open' } } });
    expect(r.statuses.get(HALT)!.runId).toBe(r.summary.journal.runId);

    // the entries while halted: refused, one a bar, never sent
    const refused = r.log.events.filter((e) => e[1] === 'rejected' && e[0] <= '13:45');
    expect(refused.map((e) => e[0])).toEqual(['13:41', '13:42', '13:43', '13:44', '13:45']);
    for (const e of refused) expect(e[3]).toBe('risk: trading halted: operator: operator check');
    const rejects = r.journal.filter((j) => j.kind === 'order_event' && (j.payload as { type: string }).type === 'rejected' && j.ts! <= RESUME);
    expect(rejects.map((j) => iso(j.ts!).slice(11, 16))).toEqual(['13:41', '13:42', '13:43', '13:44', '13:45']);
    expect(r.journal.filter((j) => j.kind === 'order_intent' && j.ts! <= RESUME)).toEqual([]);

    expect(r.answers.get('resume drawdown (not in force)')!.status).toBe(409);
    expect(errorOf(r.answers.get('resume drawdown (not in force)'))).toEqual({ code: 'HALT_NOT_IN_FORCE', message: 'drawdown does not halt the whole book; in force: operator' });
    const resumed = r.answers.get('resume operator')!;
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ lifted: { source: 'operator', since: iso(HALT), detail: 'operator check', lift: 'operator' }, halted: false, halts: [] });
    expect(r.log.events.find((e) => e[1] === 'filled')).toEqual(['13:47', 'filled', 'BUY', '']);

    // journaled as supervisor halt and resume records with the operator as their source
    const records = r.journal.filter((j) => payload(j).source === 'operator');
    expect(records.map((j) => [j.kind, payload(j).type, j.ts])).toEqual([
      ['halt', 'halt', HALT],
      ['resume', 'resume', RESUME],
    ]);
    expect(payload(records[0]!)).toMatchObject({ reason: 'operator check', context: { via: 'operator' } });
  });

  it('drawdown: sticky, refused without confirm (monger resume exits 5), lifted with it; trading continues', () => {
    // the breach, then every entry refused until the lift
    expect(haltRecords(r)).toEqual(['halt operator 13:40', 'resume operator 13:45', 'halt drawdown 13:52', 'resume drawdown 14:16']);
    const breach = r.journal.find((j) => j.kind === 'halt' && payload(j).source === 'drawdown')!;
    expect(payload(breach).reason).toBe(DRAWDOWN);

    const cli = r.cli.get('resume drawdown')!;
    expect(cli.code).toBe(5);
    expect(cli.stderr).toContain(`refused (409 HALT_CONFIRM_REQUIRED): drawdown is a risk limit's halt (${DRAWDOWN})`);
    expect(cli.stderr).toContain('monger resume drawdown --confirm');
    expect(errorOf(r.answers.get('resume health'))?.code).toBe('HALT_SELF_LIFTING');
    expect(errorOf(r.answers.get('resume unknown'))?.code).toBe('HALT_UNKNOWN_SOURCE');
    expect(errorOf(r.answers.get('resume operator (not in force)'))).toEqual({ code: 'HALT_NOT_IN_FORCE', message: 'operator does not halt the whole book; in force: drawdown' });
    // the refusals changed nothing
    const before = r.statuses.get(REFUSALS - 1)!;
    const after = r.statuses.get(REFUSALS)!;
    expect(after.halts).toEqual(before.halts);
    expect(after.halts).toEqual([{ source: 'drawdown', since: iso(BREACH), detail: DRAWDOWN, lift: 'operator-confirm' }]);
    expect(after.positions).toMatchObject([{ instrument: 'SPY', quantity: 100, avgPrice: 167.48 }]);

    // the price recovered while halted: the 13:55 bar closes at 167.56, equity 99,999 + 100 x 0.08 =
    // 100,007, a new peak; the exit at 167.52 left 100,002 (both commissions paid). The halt stayed.
    const beforeLift = r.statuses.get(LIFT - 1)!;
    expect(beforeLift.account).toMatchObject({ equity: 100_002, peakEquity: 100_007 });
    expect(beforeLift.halts.map((h) => h.source)).toEqual(['drawdown']);
    const refused = r.log.events.filter((e) => e[1] === 'rejected' && e[0] > '13:45');
    expect(refused[0]![0]).toBe('13:58');
    expect(refused.at(-1)![0]).toBe('14:16');
    expect(refused.length).toBe(19);
    for (const e of refused) expect(e[3]).toBe(`risk: trading halted: drawdown: ${DRAWDOWN}`);

    const lifted = r.answers.get('resume drawdown confirmed')!;
    expect(lifted.status).toBe(200);
    expect(lifted.body).toEqual({ lifted: { source: 'drawdown', since: iso(BREACH), detail: DRAWDOWN, lift: 'operator-confirm' }, rebased: { startEquity: 100_000, peakEquity: 100_002 }, halted: false, halts: [] });
    const resume = r.journal.find((j) => j.kind === 'resume' && payload(j).source === 'drawdown')!;
    expect(payload(resume).context).toMatchObject({ via: 'operator', confirm: true, lifted: DRAWDOWN, since: iso(BREACH) });
    const baseline = r.journal.find((j) => j.kind === 'note' && payload(j).type === 'baseline' && j.seq > resume.seq)!;
    expect(payload(baseline)).toMatchObject({ reason: 're-based by the resume of drawdown', context: { startEquity: 100_000, peakEquity: 100_002 } });

    // the status the CLI printed right after the lift
    const status = JSON.parse(r.cli.get('status')!.stdout) as OperatorStatus;
    expect(status).toMatchObject({ halted: false, halts: [], now: iso(LIFT) });

    // trading continued: the second entry and its exit
    expect(r.log.events.filter((e) => e[1] === 'filled')).toEqual([
      ['13:47', 'filled', 'BUY', ''],
      ['13:58', 'filled', 'SELL', ''],
      ['14:18', 'filled', 'BUY', ''],
      ['14:29', 'filled', 'SELL', ''],
    ]);
    expect(r.statuses.get(LATE)).toMatchObject({ halted: false, halts: [], positions: [] });
  });

  it('a restart: the journal up to the lift brings the drawdown halt back, the whole journal does not', async () => {
    const lift = r.journal.find((j) => j.kind === 'resume' && payload(j).source === 'drawdown')!;
    const early = supervisorRestore(recoverFromRecords(r.summary.journal.runId, r.journal.filter((j) => j.seq < lift.seq)));
    expect(early.halts).toEqual({ drawdown: DRAWDOWN });
    const restore = supervisorRestore(recoverFromRecords(r.summary.journal.runId, r.journal));
    expect(restore.halts).toEqual({});
    expect(restore.instrumentHalts).toBeUndefined();
    // the supervisor of the restarted process: halted before it runs with the early journal, not with the whole one
    const halted = await supervisedKernel({ supervisor: { drawdownHaltPct: 0.025, restore: early } });
    expect(halted.haltedBeforeRun).toBe(true);
    await halted.stop();
    const trading = await supervisedKernel({ supervisor: { drawdownHaltPct: 0.025, restore } });
    expect(trading.haltedBeforeRun).toBe(false);
    expect(trading.supervisor.haltsInForce()).toEqual([]);
    await trading.stop();
  });
});
