/**
 * Recovery of a resumed run, before the strategy sees any data (live-runner.ts calls the two halves
 * around the execution client's first reconciliation):
 *
 * 1. `prepareResume`, before `execution.start()`: the engine takes the journal's positions and cash
 *    and adopts every order the journal left unconfirmed or open (Kernel.restore); the execution
 *    client tracks them unbound (IbExecutionClient.recover), and expects IB to hold the journal's
 *    positions plus whatever fills it reports. Strategy state is restored by the caller
 *    (addStrategy's `state`, from the last snapshot).
 * 2. The first reconciliation binds each adopted order found at IB by its orderRef (its fills since
 *    the journal's last one replayed once) and ends those IB does not have, never sending them.
 * 3. `completeResume`, after it: the outcome of every order is journaled (`reconcile` records:
 *    IB's status, or NOT_FOUND), the replayed reports reach orders and portfolio, and the broker's
 *    positions and cash replace the engine's where they differ (each difference journaled as an
 *    alert): IB is the truth.
 */
import type { Logger } from '../../lib/core/logger.js';
import type { InstrumentSpec } from '../../lib/data/instrument.js';
import type { Kernel } from '../../lib/engine/kernel.js';
import type { Journal } from '../../lib/journal/journal.js';
import type { Recovery } from '../../lib/journal/recovery.js';
import type { ExecutionSession, IbExecutionClient } from './ib-execution-client.js';
import type { PositionDiscrepancy, ReconcileReport } from './execution-types.js';
import { accountCash } from './broker-queries.js';
import type { RecoveredOrderOutcome } from './recovered-orders.js';
import { adoptionPlan, type AdoptionPlan } from './run-resume.js';
import { PositionNotAdoptedError } from './adoption-policy.js';

/** What the resumed run did, for the summary */
export interface ResumeSummary {
  restarts: number;
  /** Client order ids found at IB and adopted */
  adopted: string[];
  /** Client order ids IB did not have (not sent again) */
  notFound: string[];
  /** Client order ids the journal left open that never left the runner */
  unsent: string[];
  /** Instruments whose position was taken from IB */
  positionsFromBroker: string[];
  cashFromBroker: boolean;
}

export interface PreparedResume {
  plan: AdoptionPlan;
  outcomes: Promise<RecoveredOrderOutcome[]>;
}

/** Journal positions as the execution client's `positionsBefore` */
export function positionsBefore(recovery: Recovery): Map<string, number> {
  return new Map(Object.entries(recovery.positions).map(([k, p]) => [k, p.quantity]));
}

export async function prepareResume(recovery: Recovery, kernel: Kernel, execution: IbExecutionClient, journal: Journal, log: Logger): Promise<PreparedResume> {
  const plan = adoptionPlan(recovery, kernel.now());
  const restored = await kernel.restore({ positions: recovery.positions, cash: recovery.snapshotCash ?? undefined, orders: plan.adopt.map((a) => a.adopted) });
  for (const u of restored.unresolved) journal.append('alert', { payload: { kind: 'recovery', message: `cannot restore ${u}` } });
  const byCoid = new Map(restored.orders.map((o) => [o.clientOrderId, o]));
  const inputs = plan.adopt.flatMap((a) => {
    const order = byCoid.get(a.adopted.clientOrderId);
    return order ? [{ order, orderRef: a.orderRef, knownExecutions: a.knownExecutions }] : [];
  });
  log.info('recovered from the journal', {
    lastSeq: recovery.lastSeq,
    snapshotSeq: recovery.lastSnapshot?.seq ?? null,
    positions: recovery.positions,
    toLookUp: inputs.map((i) => `${i.orderRef} (${i.order.status})`),
    neverSent: plan.unsent.map((u) => u.order.clientOrderId),
  });
  return { plan, outcomes: execution.recover(inputs) };
}

export interface CompleteResumeContext {
  recovery: Recovery;
  prepared: PreparedResume;
  report: ReconcileReport;
  kernel: Kernel;
  journal: Journal;
  session: ExecutionSession;
  account: string;
  resolve: (instrument: string) => Promise<InstrumentSpec>;
  now: () => number;
  log: Logger;
  /** The execution client's `positionsBefore`: updated so later reconciliations expect what was adopted */
  expected?: ExpectedPositions;
}

/**
 * The positions the execution client expects IB to hold before its own fills (its
 * `positionsBefore`, owned by the runner): a position taken from IB is expected from then on, or
 * every later reconciliation would report it as external again.
 */
export class ExpectedPositions {
  readonly before: Map<string, number>;
  constructor(initial: ReadonlyMap<string, number> = new Map()) {
    this.before = new Map(initial);
  }
  /** Shifts the expectation of every adopted instrument by its difference (IB − ours at the report) */
  apply(discrepancies: readonly PositionDiscrepancy[], adopted: Readonly<Record<string, unknown>>): void {
    for (const p of discrepancies) if (p.instrument in adopted) this.before.set(p.instrument, (this.before.get(p.instrument) ?? 0) + p.difference);
  }
}

type PositionStep = Pick<CompleteResumeContext, 'report' | 'kernel' | 'journal' | 'resolve' | 'now'>;

/**
 * The position step of a restart: IB's position of every instrument in the universe where the
 * engine's differs (`report.externalPositions`), average cost per unit; each one alerted with
 * `alert(p)`. Instruments outside the universe are skipped: the execution client reports them as
 * external, they are not ours to trade.
 */
async function brokerPositions(
  c: PositionStep,
  alert: (p: PositionDiscrepancy) => Record<string, unknown>,
  skipped?: (p: PositionDiscrepancy, error: unknown) => void,
): Promise<Record<string, { quantity: number; avgPrice: number }>> {
  const ts = c.now();
  const positions: Record<string, { quantity: number; avgPrice: number }> = {};
  for (const p of c.report.externalPositions) {
    let failure: unknown;
    const spec = await c.resolve(p.instrument).catch((e: unknown) => void (failure = e));
    if (spec === undefined) {
      skipped?.(p, failure);
      continue;
    }
    const avgPrice = Number.isFinite(p.avgCost) ? p.avgCost / (spec.secType === 'FUT' ? spec.multiplier : 1) : c.kernel.portfolio.averagePrice(p.instrument);
    positions[p.instrument] = { quantity: p.brokerQuantity, avgPrice: Number.isFinite(avgPrice) ? avgPrice : 0 };
    c.journal.append('alert', { ts, instrument: p.instrument, payload: alert(p) });
  }
  return positions;
}

/**
 * A NEW run on an account that holds positions in the universe's instruments (the previous run
 * stopped cleanly, or ran under --new-run): the engine adopts IB's positions before the strategy
 * starts, so it does not buy again on top of them and the exits protect them. Journaled as a
 * `reconcile` with the positions (recovery's position base from then on) and an alert per
 * instrument. A position the adoption policy refuses (a signal-driven universe under
 * `adoptPositions: journal`) stays external with a `position-external` alert. Returns the
 * instruments adopted.
 */
export async function adoptBrokerPositions(c: PositionStep & { expected?: ExpectedPositions; log: Logger }): Promise<string[]> {
  const external: Record<string, number> = {};
  const positions = await brokerPositions(
    c,
    (p) => ({
      kind: 'position-from-broker',
      broker: p.brokerQuantity,
      engine: p.ourQuantity,
      message: `new run: adopted IB's position ${p.brokerQuantity} ${p.instrument} from the broker (a position the runner did not open in this run)`,
    }),
    // refused by the adoption policy (adoption-policy.ts): said once here, with why and how to adopt it
    (p, error) => {
      if (!(error instanceof PositionNotAdoptedError)) return;
      external[p.instrument] = p.brokerQuantity;
      c.journal.append('alert', { ts: c.now(), instrument: p.instrument, payload: { kind: 'position-external', policy: 'journal', broker: p.brokerQuantity, message: error.message } });
    },
  );
  if (Object.keys(external).length > 0) c.log.warn('new run: broker positions left external (universe.adoptPositions: journal)', { positions: external });
  const adopted = Object.keys(positions);
  if (adopted.length === 0) return adopted;
  const restored = await c.kernel.restore({ positions });
  for (const u of restored.unresolved) c.journal.append('alert', { payload: { kind: 'recovery', message: `cannot adopt ${u}` } });
  c.expected?.apply(c.report.externalPositions, positions);
  // every position the engine now holds: a later recovery starts from these, not from nothing
  const all = Object.fromEntries(c.kernel.instruments.keys().filter((k) => c.kernel.portfolio.position(k) !== 0).map((k) => [k, { quantity: c.kernel.portfolio.position(k), avgPrice: c.kernel.portfolio.averagePrice(k) }]));
  await c.journal.appendDurable('reconcile', { ts: c.now(), payload: { event: 'positions-adopted', adopted, positions: all } });
  c.log.warn('new run: adopted the broker positions in the universe', { positions });
  return adopted;
}

/** Account summary request id: clear of the resolver's, the executions' (700_000+) and market data's (800_000+) */
const CASH_REQ_ID = 690_001;
const CASH_EPS = 0.005;

export async function completeResume(c: CompleteResumeContext): Promise<ResumeSummary> {
  const { kernel, journal, log } = c;
  const ts = c.now();
  const outcomes = await c.prepared.outcomes;
  const summary: ResumeSummary = { restarts: journal.run.restarts, adopted: [], notFound: [], unsent: [], positionsFromBroker: [], cashFromBroker: false };
  for (const o of outcomes) {
    (o.outcome === 'adopted' ? summary.adopted : summary.notFound).push(o.clientOrderId);
    journal.append('reconcile', {
      ts,
      clientOrderId: o.clientOrderId,
      decisionId: o.orderRef,
      ...(o.ibOrderId > 0 ? { brokerOrderId: o.ibOrderId } : {}),
      payload: { status: o.status, outcome: o.outcome, adopted: o.outcome === 'adopted', orderRef: o.orderRef, permId: o.permId, clientId: o.clientId, ibFilled: o.ibFilled, detail: o.detail },
    });
  }
  for (const u of c.prepared.plan.unsent) {
    summary.unsent.push(u.order.clientOrderId);
    journal.append('reconcile', { ts, clientOrderId: u.order.clientOrderId, payload: { status: 'NOT_FOUND', outcome: 'unsent', reason: u.reason } });
  }
  // the fills IB reported for adopted orders reach orders and portfolio now, strategies after onStart
  kernel.applyPendingReports();

  // positions: IB's, where they differ from the journal's plus the fills just replayed
  const positions = await brokerPositions(c, (p) => ({
    kind: 'position-from-broker',
    journal: p.ourQuantity,
    broker: p.brokerQuantity,
    message: `resumed with IB's position ${p.brokerQuantity} ${p.instrument} (journal and recovered fills: ${p.ourQuantity})`,
  }));
  summary.positionsFromBroker.push(...Object.keys(positions));
  // cash: IB's TotalCashValue (the runner trades a dedicated account)
  const cash = await accountCash(c.session, c.account, CASH_REQ_ID);
  const engineCash = kernel.portfolio.cash();
  if (cash === undefined) {
    journal.append('alert', { ts, payload: { kind: 'cash-unknown', message: `IB did not report the account's cash: resumed with the journal's ${engineCash}` } });
  } else if (Math.abs(cash - engineCash) > CASH_EPS) {
    journal.append('alert', { ts, payload: { kind: 'cash-from-broker', journal: engineCash, broker: cash, message: `resumed with IB's cash ${cash} (journal and recovered fills: ${engineCash})` } });
    summary.cashFromBroker = true;
  }
  await kernel.restore({ positions, ...(cash !== undefined ? { cash } : {}) });
  c.expected?.apply(c.report.externalPositions, positions);
  await journal.appendDurable('note', { ts, payload: { event: 'recovered', ...summary, positions: Object.fromEntries(kernel.instruments.keys().map((k) => [k, kernel.portfolio.position(k)])), cash: kernel.portfolio.cash() } });
  log.info('resumed run recovered', { ...summary });
  return summary;
}
