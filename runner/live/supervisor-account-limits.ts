/**
 * The supervisor's account limits, checked on every mark of an instrument and on every fill:
 * - `maxLossPerTrade`: a position whose unrealized loss reaches it is closed (working orders of the
 *   instrument cancelled first).
 * - `maxCumulativeLoss`: equity − equity at start (realized + unrealized, commissions included)
 *   reaching −limit halts all new entries and flattens every position, sticky until
 *   `resume('loss:cumulative')` (which re-bases the loss on the equity then).
 * - `drawdownHaltPct`: equity this many percent below its peak halts new entries (exits still go),
 *   sticky until `resume('drawdown')` (which restarts the peak from the equity then).
 * - clip: once the unrealized gain of the account exceeds `clipActivation`, the highest unrealized
 *   gain since is tracked; when the gain falls back to `clipStopLoss` x that peak, every position is
 *   closed (no halt), and the clip re-arms on the next activation.
 *
 * Restarts. The loss baseline (start and peak equity) is reported as a `baseline` action when it is
 * set (start, a resume that re-bases it) and, throttled to one a minute of engine time, when the
 * peak rises; the runner journals it and a resumed run passes the last one back (`restore`). A
 * restored `loss:cumulative` halt also closes every position again, as when it fired.
 */
import type { Kernel } from '../../lib/engine/kernel.js';
import type { SupervisorCloser } from './supervisor-closing.js';
import type { SupervisorHalts } from './supervisor-halts.js';
import { SOURCES, type SupervisorLossLimits, type SupervisorReport, type SupervisorRestore, type SupervisorStatus } from './supervisor-types.js';

const MIN = 60_000;
/** A rising equity peak is reported (journaled) at most this often, in engine time */
const PEAK_REPORT_MS = MIN;

export interface AccountLimitsDeps {
  kernel: Kernel;
  loss: SupervisorLossLimits;
  drawdownHaltPct: number | undefined;
  report: SupervisorReport;
  halts: Pick<SupervisorHalts, 'has' | 'halt'>;
  closer: Pick<SupervisorCloser, 'ensureFlat' | 'closeAll' | 'closeWorking'>;
}

export type AccountStatus = Pick<SupervisorStatus, 'startEquity' | 'peakEquity' | 'equity' | 'cumulativePnl' | 'drawdownPct' | 'clip' | 'flattening'>;

export class AccountLimits {
  private startEquity = NaN;
  private peakEquity = NaN;
  private clipArmed = false;
  private clipPeak = 0;
  /** Set while every position must be closed (cumulative loss): the source that asked */
  private flattenAllSource: string | undefined;
  /** Engine time of the last `baseline` report, and the peak it reported */
  private baselineReportedAt = -Infinity;
  private reportedPeak = NaN;

  constructor(private readonly deps: AccountLimitsDeps) {}

  /** The source closing every position (cumulative loss), if any */
  get flattening(): string | undefined {
    return this.flattenAllSource;
  }

  /** Sets the baseline when the run starts: the equity now, or the one a resumed run restores */
  start(r: SupervisorRestore | undefined): void {
    const equity = this.deps.kernel.portfolio.equity();
    const restored = r?.startEquity !== undefined && Number.isFinite(r.startEquity);
    this.startEquity = restored ? r!.startEquity! : equity;
    const peak = r?.peakEquity !== undefined && Number.isFinite(r.peakEquity) ? r.peakEquity : equity;
    this.peakEquity = Number.isFinite(equity) && !(peak >= equity) ? equity : peak;
    this.reportBaseline(restored ? 'restored from the journal' : 'equity at start');
  }

  /** A sticky halt restored from the journal: a cumulative loss closes every position again */
  restoredHalt(source: string): void {
    if (source === SOURCES.cumulativeLoss) this.flattenAllSource = source;
  }

  /** `source`'s whole-book halt was lifted: re-bases the limit it belongs to on the equity now */
  rebase(source: string): void {
    if (source === SOURCES.cumulativeLoss) {
      this.startEquity = this.deps.kernel.portfolio.equity();
      if (this.flattenAllSource === source) this.flattenAllSource = undefined;
    }
    if (source === SOURCES.drawdown) this.peakEquity = this.deps.kernel.portfolio.equity();
  }

  reportBaseline(reason: string): void {
    this.baselineReportedAt = this.deps.kernel.now();
    this.reportedPeak = this.peakEquity;
    this.deps.report({ type: 'baseline', source: 'baseline', reason, context: { startEquity: this.startEquity, peakEquity: this.peakEquity } });
  }

  /** maxLossPerTrade on the instrument's position */
  checkTrade(index: number): void {
    const { kernel, loss, closer, report } = this.deps;
    const limit = loss.maxLossPerTrade;
    if (limit === undefined) return;
    const p = kernel.portfolio;
    const qty = p.quantityAt(index);
    if (qty === 0 || closer.closeWorking(index)) return;
    const key = kernel.instruments.spec(index).key;
    const unrealized = p.unrealizedPnl(key);
    if (!(unrealized <= -limit)) return;
    const reason = `unrealized loss ${(-unrealized).toFixed(2)} of ${key} reached maxLossPerTrade ${limit}`;
    report({ type: 'breach', source: SOURCES.lossPerTrade, instrument: key, reason, context: { position: qty, averagePrice: p.averagePrice(key), lastPrice: p.lastPrice(key), unrealized, limit } });
    closer.ensureFlat(index, SOURCES.lossPerTrade, reason);
  }

  /** The equity peak, maxCumulativeLoss, the drawdown breaker and the clip */
  checkAccount(): void {
    const { kernel, loss, halts, closer, report } = this.deps;
    const p = kernel.portfolio;
    const equity = p.equity();
    if (!Number.isFinite(equity)) return;
    if (!(equity <= this.peakEquity)) this.peakEquity = equity;
    // a higher peak is journaled at most once a minute: a crash loses at most the last minute's rise
    if (Number.isFinite(this.peakEquity) && !(this.peakEquity <= this.reportedPeak) && kernel.now() - this.baselineReportedAt >= PEAK_REPORT_MS) this.reportBaseline('equity peak rose');
    const maxLoss = loss.maxCumulativeLoss;
    if (maxLoss !== undefined && !halts.has(SOURCES.cumulativeLoss)) {
      const pnl = equity - this.startEquity;
      if (pnl <= -maxLoss) {
        const reason = `cumulative loss ${(-pnl).toFixed(2)} reached maxCumulativeLoss ${maxLoss}`;
        report({ type: 'breach', source: SOURCES.cumulativeLoss, reason, context: { equity, startEquity: this.startEquity, realized: p.realizedPnl(), unrealized: p.unrealizedPnl(), limit: maxLoss } });
        halts.halt(SOURCES.cumulativeLoss, reason);
        this.flattenAllSource = SOURCES.cumulativeLoss;
        closer.closeAll(SOURCES.cumulativeLoss, reason);
      }
    }
    const ddLimit = this.deps.drawdownHaltPct;
    if (ddLimit !== undefined && !halts.has(SOURCES.drawdown) && this.peakEquity > 0) {
      const dd = ((this.peakEquity - equity) / this.peakEquity) * 100;
      if (dd >= ddLimit) {
        const reason = `drawdown ${dd.toFixed(2)}% from the equity peak ${this.peakEquity.toFixed(2)} reached drawdownHaltPct ${ddLimit}`;
        report({ type: 'breach', source: SOURCES.drawdown, reason, context: { equity, peakEquity: this.peakEquity, drawdownPct: dd, limit: ddLimit } });
        halts.halt(SOURCES.drawdown, reason);
      }
    }
    const { clipActivation, clipStopLoss } = loss;
    if (clipActivation !== undefined && clipStopLoss !== undefined) {
      const gain = p.unrealizedPnl();
      if (!this.clipArmed) {
        if (gain > clipActivation) {
          this.clipArmed = true;
          this.clipPeak = gain;
          report({ type: 'clip-armed', source: SOURCES.clip, reason: `unrealized gain ${gain.toFixed(2)} above clipActivation ${clipActivation}`, context: { gain, clipActivation, clipStopLoss } });
        }
      } else {
        if (gain > this.clipPeak) this.clipPeak = gain;
        const stop = clipStopLoss * this.clipPeak;
        if (gain <= stop) {
          const reason = `unrealized gain ${gain.toFixed(2)} fell to the clip stop ${stop.toFixed(2)} (${clipStopLoss} x peak ${this.clipPeak.toFixed(2)})`;
          report({ type: 'breach', source: SOURCES.clip, reason, context: { gain, peakGain: this.clipPeak, stop } });
          this.clipArmed = false;
          this.clipPeak = 0;
          closer.closeAll(SOURCES.clip, reason);
        }
      }
    }
  }

  status(): AccountStatus {
    const equity = this.deps.kernel.portfolio.equity();
    return {
      startEquity: this.startEquity,
      peakEquity: this.peakEquity,
      equity,
      cumulativePnl: equity - this.startEquity,
      drawdownPct: this.peakEquity > 0 ? ((this.peakEquity - equity) / this.peakEquity) * 100 : 0,
      clip: { armed: this.clipArmed, peakGain: this.clipPeak },
      flattening: this.flattenAllSource,
    };
  }
}
