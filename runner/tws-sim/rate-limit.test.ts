import { describe, expect, it } from 'vitest';
import { MessageRateLimiter } from './rate-limit.js';

describe('MessageRateLimiter', () => {
  it('allows N per second, rejects the excess with one error per second, and forgets after a second', () => {
    let t = 0;
    const l = new MessageRateLimiter(3, () => t);
    expect([l.check(), l.check(), l.check()]).toEqual(['ok', 'ok', 'ok']);
    expect(l.check()).toBe('reject');
    expect(l.check()).toBe('reject-quiet');
    t = 1500; // the window has emptied and the burst is over
    expect(l.check()).toBe('ok');
  });

  it('disconnects when the violation is still going on a second after it began', () => {
    let t = 0;
    const l = new MessageRateLimiter(2, () => t);
    const verdicts: string[] = [];
    // 4 messages per 100 ms for 1.2 s: far above 2/s the whole time
    for (; t <= 1200; t += 100) for (let i = 0; i < 4; i++) verdicts.push(l.check());
    expect(verdicts.slice(0, 3)).toEqual(['ok', 'ok', 'reject']);
    expect(verdicts).toContain('disconnect');
    expect(verdicts.indexOf('disconnect')).toBeGreaterThan(4 * 10 - 1);
  });
});
