import { describe, expect, it } from 'vitest';
import { ConfigError } from '../core/errors.js';
import { makeFolds } from './splits.js';

// 100 consecutive "sessions" labelled by day number, so windows read as indices
const DAY = 86_400_000;
const sessions = Float64Array.from({ length: 100 }, (_, i) => i * DAY);

describe('makeFolds', () => {
  it('lays rolling folds with contiguous test windows ending at the last session', () => {
    const folds = makeFolds(sessions, { mode: 'rolling', folds: 4, train: 20, test: 10 });
    expect(folds.map((f) => [f.train.first, f.train.last, f.test.first, f.test.last])).toEqual([
      [40, 59, 60, 69],
      [50, 69, 70, 79],
      [60, 79, 80, 89],
      [70, 89, 90, 99],
    ]);
    expect(folds[0]!.train.from).toBe(40 * DAY);
    expect(folds[3]!.test.to).toBe(99 * DAY);
  });

  it('anchors every train window at the first session in anchored mode', () => {
    const folds = makeFolds(sessions, { mode: 'anchored', folds: 3, train: 40, test: 20 });
    expect(folds.map((f) => [f.train.first, f.train.last, f.test.first])).toEqual([
      [0, 39, 40],
      [0, 59, 60],
      [0, 79, 80],
    ]);
  });

  it('puts validation after train and the embargo gap before test', () => {
    const [f] = makeFolds(sessions, { mode: 'rolling', folds: 1, train: 50, validation: 10, embargo: 5, test: 20 });
    expect([f!.train.first, f!.train.last]).toEqual([15, 64]);
    expect([f!.validation!.first, f!.validation!.last]).toEqual([65, 74]);
    // sessions 75..79 are the embargo: used by neither side
    expect([f!.test.first, f!.test.last]).toEqual([80, 99]);
  });

  it('derives test as the rest split into folds and train as twice that by default', () => {
    const folds = makeFolds(sessions, { mode: 'rolling', folds: 3 });
    // train = floor(100 * 2 / 5) = 40; test = floor((100 - 40) / 3) = 20
    expect(folds[0]!.train.last - folds[0]!.train.first + 1).toBe(40);
    expect(folds.map((f) => f.test.last - f.test.first + 1)).toEqual([20, 20, 20]);
    expect(folds[0]!.train.first).toBe(0);
  });

  it('refuses splits that do not fit, naming the sizes', () => {
    expect(() => makeFolds(sessions, { mode: 'rolling', folds: 5, train: 60, test: 10 })).toThrow(/100 sessions cannot hold train 60 \+ validation 0 \+ embargo 0 \+ 5 folds x test 10/);
    const err = (() => {
      try {
        makeFolds(sessions, { mode: 'rolling', folds: 0, train: 1.5, embargo: -1 });
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.problems).toEqual(['folds: expected an integer >= 1, was 0', 'train: expected an integer >= 1, was 1.5', 'embargo: expected an integer >= 0, was -1']);
  });
});
