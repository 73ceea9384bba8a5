/**
 * IB's API message limit (tws-protocol.md §5): at most N client messages per second, all kinds
 * counted together. Exceeding it earns error 100; a violation that is still going on a second
 * later ("sustained") gets the client disconnected.
 */

export type RateVerdict =
  /** within the limit: serve the message */
  | 'ok'
  /** over the limit: drop the message and send error 100 */
  | 'reject'
  /** over the limit and already rejected recently: drop silently (one error 100 per second) */
  | 'reject-quiet'
  /** over the limit for longer than the grace period: disconnect */
  | 'disconnect';

const WINDOW_MS = 1000;

export class MessageRateLimiter {
  private readonly times: number[] = [];
  private episodeStart: number | undefined;
  private lastReject = -Infinity;
  private lastWarned = -Infinity;

  constructor(
    private readonly maxPerSecond: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Records one incoming message and says what to do with it. */
  check(): RateVerdict {
    const t = this.now();
    while (this.times.length > 0 && this.times[0]! <= t - WINDOW_MS) this.times.shift();
    this.times.push(t);
    if (this.times.length <= this.maxPerSecond) return 'ok';
    // a new episode starts when the previous rejection is more than a window ago
    if (this.episodeStart === undefined || t - this.lastReject > WINDOW_MS) this.episodeStart = t;
    this.lastReject = t;
    if (t - this.episodeStart >= WINDOW_MS) return 'disconnect';
    if (t - this.lastWarned < WINDOW_MS) return 'reject-quiet';
    this.lastWarned = t;
    return 'reject';
  }
}
