import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../lib/core/logger.js';
import type { RemovalFlatten, UniverseEntryView } from '../../lib/universe/universe-types.js';
import { ControlApi } from './control-api.js';
import { ControlClient } from './control-client.js';
import { ny, supervisedKernel, type SupervisedKernel } from './supervisor-fixtures.js';

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
    const malformed = await fetch(`http://${host}:${port}/symbols/%E0%A4%A`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: { code: 'BAD_REQUEST', message: "malformed symbol in the path: '%E0%A4%A'" } });
    expect(calls).toEqual([
      ['AAPL', false, undefined],
      ['AAPL', false, 'none'],
      ['AAPL', true, 'market'],
    ]);
  });
});

describe('control API: status and halts', () => {
  let api: ControlApi | undefined;
  let s: SupervisedKernel | undefined;
  afterEach(async () => {
    await api?.stop();
    await s?.stop();
    api = undefined;
    s = undefined;
  });

  /** A supervised kernel on SPY behind the API, without a universe */
  async function start(options: Parameters<typeof supervisedKernel>[0] = {}) {
    s = await supervisedKernel(options);
    api = new ControlApi({ host: '127.0.0.1', port: 0, token: TOKEN, logger: silentLogger, target: undefined, operator: s.operator });
    const { host, port } = await api.start();
    return { s, base: `http://${host}:${port}`, client: new ControlClient(host, port, TOKEN) };
  }

  it('requires the bearer token on every endpoint; a refused request halts nothing', async () => {
    const { s, base } = await start();
    const post = (path: string, headers: Record<string, string>) => fetch(base + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ reason: 'x', source: 'operator' }) });
    const attempts: Record<string, string>[] = [{}, { authorization: 'Bearer wrong-token-of-some-length' }, { authorization: TOKEN }];
    for (const headers of attempts) {
      expect((await fetch(`${base}/status`, { headers })).status).toBe(401);
      const halt = await post('/halt', headers);
      expect(halt.status).toBe(401);
      expect(await halt.json()).toEqual({ error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } });
      expect((await post('/resume', headers)).status).toBe(401);
    }
    expect(s.supervisor.haltsInForce()).toEqual([]);
    expect(s.actions.filter((a) => a.source === 'operator')).toEqual([]);
  });

  it('halt, status, resume round trip', async () => {
    const { s, client } = await start();
    await s.bars(ny(10), ny(10, 1), () => 100);
    const halted = await client.halt('maintenance window');
    expect(halted).toEqual({ status: 200, body: { halted: { source: 'operator', since: '2024-12-02T15:01:00.000Z', detail: 'maintenance window', lift: 'operator' }, already: false, halts: [expect.objectContaining({ source: 'operator' })] } });
    const status = await client.status();
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({ runId: 'run-1', mode: 'paper', strategy: 'trader@1.2.3', connection: 'connected', halted: true, halts: [{ source: 'operator', detail: 'maintenance window' }], positions: [{ instrument: 'SPY', quantity: 100 }], workingOrders: 0, sessions: { SPY: { phase: 'open' } } });
    expect(s.kernel.risk.halted).toBe(true);
    const resumed = await client.resume('operator');
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ lifted: { source: 'operator', detail: 'maintenance window' }, halted: false, halts: [] });
    expect(((await client.status()).body as { halts: unknown[] }).halts).toEqual([]);
    expect(s.kernel.risk.halted).toBe(false);
    expect(s.actions.filter((a) => a.source === 'operator').map((a) => a.type)).toEqual(['halt', 'resume']);
  });

  it('answers a halt or a resume only once what it journaled is durable', async () => {
    s = await supervisedKernel({});
    let release: () => void = () => undefined;
    const flushes: string[] = [];
    api = new ControlApi({
      host: '127.0.0.1',
      port: 0,
      token: TOKEN,
      logger: silentLogger,
      target: undefined,
      operator: s.operator,
      durable: () => {
        flushes.push(s!.actions.map((a) => `${a.type}:${a.source}`).join(','));
        return new Promise<void>((r) => (release = r));
      },
    });
    const { host, port } = await api.start();
    const client = new ControlClient(host, port, TOKEN);
    let answered = false;
    const halt = client.halt('maintenance').then((r) => ((answered = true), r));
    while (flushes.length === 0) await new Promise((r) => setTimeout(r, 5));
    // the halt took effect and is waiting to be made durable: no answer yet
    expect(s.supervisor.haltsInForce().map((h) => h.source)).toEqual(['operator']);
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    release();
    expect((await halt).status).toBe(200);
    const resume = client.resume('operator');
    while (flushes.length === 1) await new Promise((r) => setTimeout(r, 5));
    release();
    expect((await resume).status).toBe(200);
    expect(flushes).toEqual([expect.stringContaining('halt:operator'), expect.stringContaining('resume:operator')]);
  });

  it('refusals: 400 bad body or unknown source, 404 unknown instrument, 409 not in force / confirm required / lifts itself; nothing changes', async () => {
    const { s, base, client } = await start({ supervisor: { drawdownHaltPct: 2 } });
    // 100 bought at 100, then 70: the drawdown breaker halts the book
    await s.bars(ny(10), ny(10, 1), () => 100);
    await s.bars(ny(10, 1), ny(10, 2), () => 70);
    s.supervisor.halt('health:connection', 'IB session reconnecting');
    const before = JSON.stringify(s.supervisor.haltsInForce());
    const actions = s.actions.length;
    const code = (a: { status: number; body: unknown }) => [a.status, (a.body as { error: { code: string } }).error.code];
    expect(code(await client.resume('drawdown'))).toEqual([409, 'HALT_CONFIRM_REQUIRED']);
    expect(code(await client.resume('operator'))).toEqual([409, 'HALT_NOT_IN_FORCE']);
    expect(code(await client.resume('health:connection', { confirm: true }))).toEqual([409, 'HALT_SELF_LIFTING']);
    expect(code(await client.resume('nonsense'))).toEqual([400, 'HALT_UNKNOWN_SOURCE']);
    expect(code(await client.resume('operator', { instrument: 'QQQ' }))).toEqual([404, 'HALT_UNKNOWN_INSTRUMENT']);
    expect(code(await client.halt(''))).toEqual([400, 'HALT_BAD_REQUEST']);
    const bad = await fetch(`${base}/resume`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: '{"source":' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('BAD_REQUEST');
    expect((await fetch(`${base}/halt`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
    expect(JSON.stringify(s.supervisor.haltsInForce())).toBe(before);
    expect(s.actions.length).toBe(actions);
    // confirmed: the answer says what was lifted and the new baseline; the health halt stays
    const lifted = await client.resume('drawdown', { confirm: true });
    expect(lifted.status).toBe(200);
    expect(lifted.body).toMatchObject({ lifted: { source: 'drawdown', detail: 'drawdown 3.00% from the equity peak 100000.00 reached drawdownHaltPct 2', lift: 'operator-confirm' }, rebased: { startEquity: 100_000, peakEquity: 97_000 }, halted: true, halts: [{ source: 'health:connection', lift: 'automatic' }] });
  });

  it('without a universe the symbol endpoints say so (409 NO_UNIVERSE)', async () => {
    const { base, client } = await start();
    const list = await client.list();
    expect(list.status).toBe(409);
    expect(list.body).toEqual({ error: { code: 'NO_UNIVERSE', message: expect.stringMatching(/^no dynamic universe in this run/) } });
    expect((await client.add('AAPL')).status).toBe(409);
    expect((await fetch(`${base}/symbols/AAPL`, { method: 'DELETE', headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(409);
  });
});
