import { describe, expect, it } from 'vitest';
import { SourceQueue, type EventSource } from './event-source.js';

function source(times: number[], priority: number, log: string[], name: string): EventSource {
  let i = 0;
  return {
    priority,
    get nextTime() {
      return i < times.length ? times[i]! : Infinity;
    },
    needsRefill: false,
    refill: async () => undefined,
    dispatch() {
      log.push(`${name}@${times[i]}`);
      i++;
    },
    close() {},
  };
}

describe('SourceQueue', () => {
  it('merges sources in time order with priority breaking ties', () => {
    const log: string[] = [];
    const q = new SourceQueue();
    q.push(source([1, 3, 5], 2, log, 'b'));
    q.push(source([1, 2, 5, 6], 1, log, 'a'));
    q.push(source([4], 0, log, 'c'));
    for (let top = q.peek(); top !== undefined && top.nextTime < Infinity; top = q.peek()) {
      top.dispatch();
      q.updateTop();
    }
    expect(log).toEqual(['a@1', 'b@1', 'a@2', 'b@3', 'c@4', 'a@5', 'b@5', 'a@6']);
  });
});
