/**
 * Live polling of a signal provider: every `intervalMs` (clock and timers injected) it asks for what
 * was published since its watermark up to now and hands the batch on (a PushSignalSource), noticing
 * tickers it has never seen (`onNewSymbols`: the universe can start resolving them). `onSignals` gets
 * the watermark the poller moves to once the batch is handed on, so the runner can journal it with
 * the hand-off and resume from it after a restart (runner/live/universe-resume.ts).
 * A failed poll — the provider's, or a hand-off (`onSignals`/`onNewSymbols`) that throws — is
 * reported and retried with a doubling delay (at most `maxBackoffMs`): an outage never stops the
 * run, and the watermark moves only after the batch was handed on, so a failed hand-off loses nothing.
 */
import type { Clock } from '../engine/clock.js';
import type { Scheduler } from '../engine/live-feed.js';
import { START_WATERMARK, type SignalProvider, type SignalWatermark } from './provider.js';
import type { Signal } from './signal.js';

export interface SignalPollerOptions {
  provider: SignalProvider;
  clock: Clock;
  scheduler: Scheduler;
  /** The batch and the watermark that covers it (the poller's own once this returns) */
  onSignals: (signals: Signal[], watermark: SignalWatermark) => void;
  onNewSymbols?: (symbols: string[]) => void;
  onError?: (error: Error, failures: number) => void;
  /** Default 1000 */
  intervalMs?: number;
  /** Late-row window (see provider.ts); default 60,000 */
  lateMs?: number;
  /** Signals per poll; after a full batch the next poll comes at once. Default 10,000 */
  limit?: number;
  /** Resume point (the journal's last watermark); default: from the beginning */
  watermark?: SignalWatermark;
  /** Symbols already known (the universe at start): not reported as new */
  known?: Iterable<string>;
  maxBackoffMs?: number;
}

export class SignalPoller {
  private watermarkValue: SignalWatermark;
  private readonly known: Set<string>;
  private timer: unknown;
  private running = false;
  private inFlight: Promise<number> | undefined;
  /** The last batch hit the limit: poll again at once */
  private more = false;
  private failures = 0;
  polls = 0;
  delivered = 0;

  constructor(private readonly o: SignalPollerOptions) {
    this.watermarkValue = o.watermark ?? START_WATERMARK;
    this.known = new Set(o.known ?? []);
  }

  get watermark(): SignalWatermark {
    return this.watermarkValue;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.o.scheduler.clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One poll now (also used by tests); resolves with the number of signals handed on */
  pollNow(): Promise<number> {
    this.inFlight ??= this.poll().finally(() => (this.inFlight = undefined));
    return this.inFlight;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    this.timer = this.o.scheduler.setTimeout(() => {
      this.timer = undefined;
      void this.pollNow().then(
        () => this.schedule(this.more ? 0 : (this.o.intervalMs ?? 1000)),
        () => this.schedule(Math.min(this.o.maxBackoffMs ?? 60_000, (this.o.intervalMs ?? 1000) * 2 ** Math.min(this.failures, 16))),
      );
    }, ms);
  }

  private async poll(): Promise<number> {
    try {
      const batch = await this.o.provider.poll(this.watermarkValue, { until: this.o.clock.now(), limit: this.o.limit, lateMs: this.o.lateMs ?? 60_000 });
      if (batch.signals.length > 0) {
        const fresh = new Set<string>();
        for (const s of batch.signals) if (!this.known.has(s.symbol)) fresh.add(s.symbol);
        if (fresh.size > 0) {
          this.o.onNewSymbols?.([...fresh]);
          for (const s of fresh) this.known.add(s);
        }
        this.o.onSignals(batch.signals, batch.watermark);
      }
      // only now: a hand-off that throws leaves the watermark where it was, so the batch is polled
      // again (a journaled watermark must never cover signals nobody received)
      this.watermarkValue = batch.watermark;
      this.more = batch.more;
      this.failures = 0;
      this.polls++;
      this.delivered += batch.signals.length;
      return batch.signals.length;
    } catch (e) {
      this.failures++;
      const error = e instanceof Error ? e : new Error(String(e));
      this.o.onError?.(error, this.failures);
      throw error;
    }
  }
}
