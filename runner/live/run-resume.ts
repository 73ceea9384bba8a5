/**
 * Pure decisions of a runner restart: which journal run to continue, the client order id prefix of
 * this process, and the orders of earlier processes the engine must adopt.
 *
 * Which run. A run that did not finish (its process was killed or failed after trading) and has the
 * same strategy and mode is resumed when the broker outlived the runner (paper, live, or a replay
 * against a simulator the runner connects to; a replay that starts its own simulator starts a fresh
 * broker and so a fresh run). The newest such run is taken; if it was started with a different
 * configuration the runner refuses rather than guess (`--new-run` starts over, leaving its orders at
 * IB to be reported as unclaimed). `--resume <id>` names a run (finished or not) explicitly;
 * `--new-run` always opens a new one. A cleanly finished run is never resumed implicitly.
 *
 * What a resumed run's supervisor carries over (`supervisorRestore`): the whole-book halts the
 * journal left in force (the supervisor re-applies only the sticky ones) and the last loss baseline.
 * A new run starts with neither: a fresh baseline at its start equity, no halts.
 */
import { createHash } from 'node:crypto';
import { ConfigError } from '../../lib/core/errors.js';
import type { AdoptedOrder } from '../../lib/engine/order-manager.js';
import type { JournalRun } from '../../lib/journal/journal.js';
import type { RecoveredOrder, Recovery } from '../../lib/journal/recovery.js';
import type { OrderRequest, OrderSide, OrderType, TimeInForce } from '../../lib/model/orders.js';
import { parseOrderRef } from './order-ref.js';
import { STICKY_SOURCES, type SupervisorRestore } from './supervisor.js';

export interface RunWanted {
  mode: string;
  strategy: string;
  configHash: string;
}

export interface RunFlags {
  /** `--resume <runId>` */
  resume?: string;
  /** `--new-run` */
  newRun?: boolean;
  /** False when the broker does not outlive the runner (replay with its own simulator) */
  autoResume: boolean;
}

export type RunChoice = { action: 'new'; reason: string } | { action: 'resume'; run: JournalRun; reason: string };

const short = (hash: string) => hash.slice(0, 12);

/** Which run to continue, given every run in the journal; a ConfigError when it cannot decide safely. */
export function chooseRun(runs: readonly JournalRun[], want: RunWanted, flags: RunFlags): RunChoice {
  const fail = (problem: string): never => {
    throw new ConfigError('monger run', [problem]);
  };
  if (flags.resume !== undefined && flags.newRun) fail('--resume and --new-run exclude each other');
  if (flags.resume !== undefined) {
    const run = runs.find((r) => r.runId === flags.resume) ?? fail(`--resume: no run '${flags.resume}' in the journal`);
    if (run.strategy !== want.strategy || run.mode !== want.mode) fail(`--resume: run '${run.runId}' is ${run.strategy} in ${run.mode} mode, the config runs ${want.strategy} in ${want.mode} mode`);
    if (run.configHash !== want.configHash) fail(`--resume: run '${run.runId}' was started with another configuration (hash ${short(run.configHash)}, now ${short(want.configHash)}); resume it with its own config or start a new run with --new-run`);
    return { action: 'resume', run, reason: `--resume ${run.runId}` + (run.endedAt === null ? ' (it did not finish)' : ` (it ended: ${run.endReason ?? 'closed'})`) };
  }
  const unfinished = runs.filter((r) => r.endedAt === null && r.strategy === want.strategy && r.mode === want.mode).sort((a, b) => b.startedAt - a.startedAt);
  if (flags.newRun) return { action: 'new', reason: unfinished.length > 0 ? `--new-run (unfinished, not resumed: ${unfinished.map((r) => r.runId).join(', ')})` : '--new-run' };
  const latest = unfinished[0];
  if (latest === undefined) return { action: 'new', reason: `no unfinished ${want.strategy} run in ${want.mode} mode` };
  if (!flags.autoResume) return { action: 'new', reason: `replay with its own simulator starts a fresh broker: unfinished run ${latest.runId} is not resumed (use --resume to force)` };
  if (latest.configHash !== want.configHash) {
    fail(
      `run '${latest.runId}' of ${want.strategy} (${want.mode}) did not finish and was started with another configuration (hash ${short(latest.configHash)}, now ${short(want.configHash)}): ` +
        'restart with its configuration to resume it, or pass --new-run to start a new run (its orders still at IB are then reported as unclaimed)',
    );
  }
  return { action: 'resume', run: latest, reason: `run ${latest.runId} did not finish (pid ${latest.pid} on ${latest.host}, ${latest.restarts} earlier restarts)` };
}

/**
 * The client order id prefix of this process: `<6 hex of the run>.<restarts>`. Engine order ids
 * restart at 1 in every process, and a client order id becomes the orderRef IB keeps for the day,
 * the key of idempotent submission: a repeated id would make a new decision adopt an old order. The
 * run part keeps runs of the same strategy apart on one account; the restart count (incremented by
 * every resume in the journal's own commit) keeps the processes of one run apart. Continuing the
 * counter from the journal's highest id would also do, but only for ids journaled before the crash,
 * and not across runs.
 */
export function clientOrderIdPrefix(runId: string, restarts: number): string {
  const tail = /-([0-9a-f]{6})$/.exec(runId)?.[1] ?? createHash('sha256').update(runId).digest('hex').slice(0, 6);
  return `${tail}.${restarts}`;
}

/** An order of an earlier process for the engine to adopt and the execution client to look up */
export interface PlannedAdoption {
  adopted: AdoptedOrder;
  orderRef: string;
  /** Executions the journal already applied (not applied again) */
  knownExecutions: string[];
  journalState: 'unconfirmed' | 'open';
}

export interface AdoptionPlan {
  adopt: PlannedAdoption[];
  /** Orders left open in the journal that cannot have reached the broker (no durable intent) or cannot be rebuilt, with why */
  unsent: { order: RecoveredOrder; reason: string }[];
}

const TYPES: readonly OrderType[] = ['MARKET', 'LIMIT', 'STOP', 'STOP_LIMIT', 'TRAILING_STOP'];
const TIFS: readonly TimeInForce[] = ['DAY', 'GTC', 'IOC'];

/** Every order the journal left unconfirmed or open, rebuilt from its intent (see live-runner's `order_intent` payload). */
export function adoptionPlan(recovery: Recovery, now: number): AdoptionPlan {
  const plan: AdoptionPlan = { adopt: [], unsent: [] };
  const fills = [...recovery.fillsSeen.values()];
  for (const o of recovery.openIntents) {
    const p = (typeof o.intent === 'object' && o.intent !== null ? o.intent : {}) as Record<string, unknown>;
    const orderRef = typeof p['orderRef'] === 'string' ? p['orderRef'] : o.decisionId;
    if (o.intentSeq === null || orderRef === null) {
      // the intent is committed before an order is sent: without one it never left this runner
      plan.unsent.push({ order: o, reason: 'no durable order intent: never sent' });
      continue;
    }
    const strategyId = typeof p['strategyId'] === 'string' ? p['strategyId'] : parseOrderRef(orderRef)?.strategy;
    const type = p['type'] as OrderType;
    const side = (o.side ?? p['side']) as OrderSide;
    const quantity = o.quantity ?? p['quantity'];
    const instrument = o.instrument ?? p['instrument'];
    if (strategyId === undefined || !TYPES.includes(type) || (side !== 'BUY' && side !== 'SELL') || typeof quantity !== 'number' || typeof instrument !== 'string') {
      plan.unsent.push({ order: o, reason: `intent cannot be read back (${JSON.stringify(p)})` });
      continue;
    }
    const request: OrderRequest = { instrument, side, type, quantity, tif: TIFS.includes(p['tif'] as TimeInForce) ? (p['tif'] as TimeInForce) : 'DAY', tag: typeof p['tag'] === 'string' ? p['tag'] : '' };
    for (const k of ['limitPrice', 'stopPrice', 'trailingAmount', 'trailingPercent'] as const) {
      const v = p[k];
      if (typeof v === 'number' && Number.isFinite(v)) request[k] = v;
    }
    const own = fills.filter((f) => f.clientOrderId === o.clientOrderId);
    const filled = own.reduce((s, f) => s + f.quantity, 0);
    const avgFillPrice = filled > 0 ? own.reduce((s, f) => s + f.quantity * f.price, 0) / filled : NaN;
    const journalState = o.state === 'unconfirmed' ? 'unconfirmed' : 'open';
    plan.adopt.push({
      adopted: { clientOrderId: o.clientOrderId, strategyId, request, status: journalState === 'unconfirmed' ? 'SUBMITTED' : filled > 0 ? 'PARTIALLY_FILLED' : 'ACCEPTED', filledQuantity: filled, avgFillPrice, createdAt: now },
      orderRef,
      knownExecutions: own.map((f) => f.executionId),
      journalState,
    });
  }
  return plan;
}

/**
 * The supervisor state a resumed run takes from its journal: whole-book halts in force by source,
 * the sticky (operator's) instrument halts when there are any, the loss baseline
 */
export function supervisorRestore(recovery: Pick<Recovery, 'halted' | 'lossBaseline'> & Partial<Pick<Recovery, 'instrumentHaltSources'>>): SupervisorRestore {
  const halts = Object.fromEntries(Object.entries(recovery.halted.sources).map(([source, h]) => [source, h.reason ?? '']));
  const instrumentHalts: Record<string, Record<string, string>> = {};
  for (const [instrument, sources] of Object.entries(recovery.instrumentHaltSources ?? {})) {
    for (const [source, h] of Object.entries(sources)) if (STICKY_SOURCES.has(source)) (instrumentHalts[instrument] ??= {})[source] = h.reason ?? '';
  }
  const b = recovery.lossBaseline;
  return { halts, ...(Object.keys(instrumentHalts).length > 0 ? { instrumentHalts } : {}), ...(b !== null ? { startEquity: b.startEquity, peakEquity: b.peakEquity } : {}) };
}

/**
 * Whether a run that failed must stay unfinished (the next start resumes it): it sent or adopted
 * orders, holds positions by its journal, or has a halt in force an operator must lift (`stickyNow`:
 * this process's supervisor holds a sticky halt, of the book or of one instrument).
 */
export function keepUnfinished(intents: number, recovery: Pick<Recovery, 'orders' | 'positions' | 'halted'> | undefined, stickyNow = false): boolean {
  if (intents > 0 || stickyNow) return true;
  if (recovery === undefined) return false;
  return recovery.orders.size > 0 || Object.keys(recovery.positions).length > 0 || Object.keys(recovery.halted.sources).length > 0;
}
