/**
 * IB's historical-data pacing rules (tws-protocol.md §5), pure and clock-injected so tests can
 * step time. A violation is answered with error 162 and the pacing text; the request is dropped
 * and does not count towards later checks.
 */
import { PACING_VIOLATION } from './ib-errors.js';

export type PacingRule = 'identical' | 'burst' | 'window' | 'simultaneous';

export interface PacedRequest {
  /** Identifies the request while it is open (e.g. `connection:reqId`) */
  id: string;
  /** Contract + exchange + tick type: the "same contract" of the burst rule */
  key: string;
  /** Everything that makes two requests identical (all fields but the reqId) */
  signature: string;
  /** BID_ASK counts twice */
  weight?: number;
  /** Bars of 30 s or less: IB lifted the identical/burst/window rules for 1 min bars and above */
  smallBars?: boolean;
}

export type PacingDecision = { ok: true } | { ok: false; rule: PacingRule; message: string };

export interface PacingLimits {
  /** Identical request within this many ms */
  identicalMs: number;
  /** `burstCount` or more weighted requests for one key within `burstMs` */
  burstMs: number;
  burstCount: number;
  /** More than `windowCount` weighted requests within `windowMs` */
  windowMs: number;
  windowCount: number;
  /** Open (unanswered or live keepUpToDate) requests at once */
  maxOpen: number;
}

export const IB_PACING_LIMITS: PacingLimits = {
  identicalMs: 15_000,
  burstMs: 2_000,
  burstCount: 6,
  windowMs: 600_000,
  windowCount: 60,
  maxOpen: 50,
};

export interface PacingOptions {
  /** Epoch ms; real time in the simulator (clients pace in real time even during fast replay) */
  now: () => number;
  /** Apply the identical/burst/window rules to every bar size, not only to bars of 30 s or less */
  allBarSizes?: boolean;
  limits?: Partial<PacingLimits>;
}

interface Admitted {
  at: number;
  key: string;
  signature: string;
  weight: number;
}

export class PacingGuard {
  private readonly limits: PacingLimits;
  private history: Admitted[] = [];
  private readonly open = new Set<string>();

  constructor(private readonly options: PacingOptions) {
    this.limits = { ...IB_PACING_LIMITS, ...options.limits };
  }

  /** Checks every rule; when ok the request is recorded and counted as open until `release`. */
  admit(req: PacedRequest): PacingDecision {
    const now = this.options.now();
    const L = this.limits;
    this.history = this.history.filter((h) => now - h.at < Math.max(L.windowMs, L.identicalMs, L.burstMs));
    if (this.open.size >= L.maxOpen && !this.open.has(req.id)) return violation('simultaneous');
    const weight = req.weight ?? 1;
    const paced = this.options.allBarSizes === true || req.smallBars === true;
    if (paced) {
      if (this.history.some((h) => h.signature === req.signature && now - h.at < L.identicalMs)) return violation('identical');
      const burst = sum(this.history.filter((h) => h.key === req.key && now - h.at < L.burstMs));
      if (burst + weight >= L.burstCount) return violation('burst');
      const window = sum(this.history.filter((h) => now - h.at < L.windowMs));
      if (window + weight > L.windowCount) return violation('window');
      this.history.push({ at: now, key: req.key, signature: req.signature, weight });
    }
    this.open.add(req.id);
    return { ok: true };
  }

  /** The request was answered, failed or was cancelled: it no longer counts as open. */
  release(id: string): void {
    this.open.delete(id);
  }

  get openCount(): number {
    return this.open.size;
  }
}

function sum(rows: readonly Admitted[]): number {
  return rows.reduce((s, h) => s + h.weight, 0);
}

function violation(rule: PacingRule): PacingDecision {
  return { ok: false, rule, message: PACING_VIOLATION };
}
