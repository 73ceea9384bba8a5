import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/core/logger.js';
import type { RemovalFlatten, UniverseEntryView } from '../../lib/universe/universe-types.js';
import { ControlApi } from './control-api.js';
import { ControlClient } from './control-client.js';

const TOKEN = 'a-token-of-more-than-16-chars';

describe('control API: DELETE /symbols/SYM', () => {
  let api: ControlApi | undefined;
  afterEach(async () => {
    await api?.stop();
    api = undefined;
  });

  it('passes immediate and the per-request flatten policy to the universe, and refuses an unknown policy', async () => {
    const calls: [string, boolean, RemovalFlatten | undefined][] = [];
    const entry = (symbol: string): UniverseEntryView => ({ symbol, instrument: `${symbol}.K`, state: 'retiring', origin: 'added', pinned: false, lastSignalAt: 0, lastValue: 1, reason: undefined, activations: 1, delivered: 0 });
    api = new ControlApi({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      logger: silentLogger,
      target: {
        add: async (s) => entry(s),
        remove: (s, immediate, flatten) => {
          calls.push([s, immediate, flatten]);
          return entry(s);
        },
        list: () => ({ mode: 'dynamic', lines: { budget: 10, used: 0, peak: 0 }, waiting: [], symbols: [] }),
      },
    });
    const { host, port } = await api.start();
    const client = new ControlClient(host, port, TOKEN);
    expect((await client.remove('AAPL')).status).toBe(200);
    expect((await client.remove('AAPL', false, 'none')).status).toBe(200);
    expect((await client.remove('AAPL', true, 'market')).status).toBe(200);
    const bad = await fetch(`http://${host}:${port}/symbols/AAPL?flatten=limit`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: { code: 'BAD_REQUEST', message: "flatten: expected one of market, none, got 'limit'" } });
    expect(calls).toEqual([
      ['AAPL', false, undefined],
      ['AAPL', false, 'none'],
      ['AAPL', true, 'market'],
    ]);
  });
});
