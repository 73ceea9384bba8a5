/**
 * The contract resolver's circuit breaker: it opens after `failures` consecutive failures
 * (timeouts, disconnects, session not connected) and fails fast with CircuitOpenError for
 * `openMs`; then one probe request is let through (half-open): its success closes the breaker,
 * its failure opens it again.
 *
 * The clock is injected (`now`); nothing here reads the wall clock.
 */
import { WorkbenchError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { describeQuery, type ContractQuery } from './contract-types.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  /** Consecutive failures (timeouts, disconnects) that open the breaker */
  failures: number;
  /** Time the breaker stays open before one probe is let through */
  openMs: number;
}

/** The breaker is open: the request was not sent. */
export class CircuitOpenError extends WorkbenchError {
  readonly code = 'IB_CIRCUIT_OPEN';
  constructor(
    /** Epoch ms at which a probe will be let through */
    readonly retryAt: number,
    message: string,
  ) {
    super(message);
  }
}

export class CircuitBreaker {
  private stateValue: BreakerState = 'closed';
  private consecutiveFailures = 0;
  private openedAt = 0;
  /** Set by the caller while the half-open probe request is out */
  probeInFlight = false;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number,
    private readonly log: Logger,
    /** Called for every request the breaker refuses */
    private readonly onShortCircuit: () => void,
  ) {}

  /** The breaker's state now (an open breaker whose time is up reads half-open). */
  get state(): BreakerState {
    if (this.stateValue === 'open' && this.now() - this.openedAt >= this.options.openMs) return 'half-open';
    return this.stateValue;
  }

  /** The breaker is open (whether or not its time is up): a retry would be refused or be the probe. */
  get isOpen(): boolean {
    return this.stateValue === 'open';
  }

  /**
   * Throws CircuitOpenError while the breaker refuses requests. Returns true when this request
   * is the half-open probe.
   */
  check(query: ContractQuery): boolean {
    if (this.stateValue === 'closed') return false;
    const retryAt = this.openedAt + this.options.openMs;
    if (this.now() >= retryAt && !this.probeInFlight) {
      if (this.stateValue === 'open') {
        this.stateValue = 'half-open';
        this.log.info('circuit half-open: probing', { symbol: query.symbol });
      }
      return true;
    }
    this.onShortCircuit();
    const why = this.probeInFlight ? 'a probe request is in flight' : `open until ${new Date(retryAt).toISOString()}`;
    throw new CircuitOpenError(retryAt, `contract requests suspended after ${this.options.failures} consecutive failures (${why}); ${describeQuery(query)} not sent`);
  }

  recordSuccess(): void {
    this.consecutiveFailures = 0;
    if (this.stateValue !== 'closed') {
      this.stateValue = 'closed';
      this.log.info('circuit closed');
    }
  }

  recordFailure(probe: boolean): void {
    this.consecutiveFailures++;
    // in half-open only the probe's failure reopens; a request sent before the breaker opened does not
    if (probe || (this.stateValue === 'closed' && this.consecutiveFailures >= this.options.failures)) {
      this.stateValue = 'open';
      this.openedAt = this.now();
      this.log.warn('circuit open', { failures: this.consecutiveFailures, openMs: this.options.openMs });
    }
  }
}
