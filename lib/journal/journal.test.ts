import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Store } from '../store/store.js';
import { Journal, JournalError, readJournal, type JournalRunInfo } from './journal.js';

let dir: string;
let store: Store;
const journals: Journal[] = [];

const RUN: JournalRunInfo = { runId: 'run-1', mode: 'paper', strategy: 'sma-cross', strategyVersion: '1.0.0', configHash: 'abc123', host: 'test-host', pid: 4242 };

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'monger-journal-'));
  store = await Store.open(path.join(dir, 'journal.duckdb'));
});

afterEach(() => {
  journals.splice(0);
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

/** These tests pin the DuckDB-commit path (durable = committed); intent-log.test.ts covers the write-ahead intent log */
async function open(options: Parameters<typeof Journal.open>[2] = {}, info: JournalRunInfo = RUN): Promise<Journal> {
  const j = await Journal.open(store, info, { intentLog: false, ...options });
  journals.push(j);
  return j;
}

async function committed(runId = RUN.runId!): Promise<number[]> {
  return (await readJournal(store, runId)).map((r) => r.seq);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Journal.open', () => {
  it('records the run and starts seq at 1', async () => {
    const wall = Date.UTC(2024, 0, 2, 14, 30);
    const j = await open({ wallClock: () => wall });
    const run = await Journal.find(store, 'run-1');
    expect(run).toEqual({
      runId: 'run-1',
      startedAt: wall,
      mode: 'paper',
      strategy: 'sma-cross',
      strategyVersion: '1.0.0',
      configHash: 'abc123',
      host: 'test-host',
      pid: 4242,
      restarts: 0,
      endedAt: null,
      endReason: null,
    });
    expect(await j.appendDurable('note')).toBe(1);
    expect(await j.appendDurable('note')).toBe(2);
  });

  it('refuses a run id that exists, and generates one when none is given', async () => {
    await open();
    await expect(Journal.open(store, RUN)).rejects.toMatchObject({ code: 'JOURNAL_EXISTS' });
    const j = await open({}, { ...RUN, runId: undefined });
    expect(j.runId).toMatch(/^sma-cross-\d{8}T\d{6}Z-[0-9a-f]{6}$/);
    expect((await Journal.list(store)).map((r) => r.runId).sort()).toEqual(['run-1', j.runId].sort());
  });
});

describe('append', () => {
  it('stores every column and the payload as JSON (NaN becomes null), in seq order', async () => {
    const engine = Date.UTC(2024, 0, 2, 15, 0, 0, 250);
    const wall = Date.UTC(2024, 0, 2, 15, 0, 1, 7);
    const j = await open({ clock: () => engine, wallClock: () => wall });
    await j.appendDurable('decision', { decisionId: 'd-1', instrument: 'SPY', payload: { inputs: { fast: 101.5, slow: 100.25 }, action: 'buy', limit: NaN } });
    await j.appendDurable('order_intent', { ts: engine + 1, decisionId: 'd-1', clientOrderId: 'sma-1', instrument: 'SPY', payload: { request: { side: 'BUY', quantity: 10 } } });
    await j.appendDurable('order_submitted', { clientOrderId: 'sma-1', brokerOrderId: 1_000_001 });
    const rows = await readJournal(store, 'run-1');
    expect(rows).toEqual([
      { runId: 'run-1', seq: 1, ts: engine, wallTs: wall, kind: 'decision', decisionId: 'd-1', clientOrderId: null, brokerOrderId: null, instrument: 'SPY', payload: { inputs: { fast: 101.5, slow: 100.25 }, action: 'buy', limit: null } },
      { runId: 'run-1', seq: 2, ts: engine + 1, wallTs: wall, kind: 'order_intent', decisionId: 'd-1', clientOrderId: 'sma-1', brokerOrderId: null, instrument: 'SPY', payload: { request: { side: 'BUY', quantity: 10 } } },
      { runId: 'run-1', seq: 3, ts: engine, wallTs: wall, kind: 'order_submitted', decisionId: null, clientOrderId: 'sma-1', brokerOrderId: '1000001', instrument: null, payload: {} },
    ]);
    expect(await readJournal(store, 'run-1', { kinds: ['order_intent', 'order_submitted'], fromSeq: 3 })).toHaveLength(1);
  });

  it('serializes the payload at append time: later mutation does not change the record', async () => {
    const j = await open();
    const order = { status: 'SUBMITTED', filled: 0 };
    j.append('order_event', { clientOrderId: 'c1', payload: { type: 'submitted', order } });
    order.status = 'FILLED';
    order.filled = 10;
    await j.flush();
    expect((await readJournal(store, 'run-1'))[0]!.payload).toEqual({ type: 'submitted', order: { status: 'SUBMITTED', filled: 0 } });
  });

  it('buffers: nothing is committed at once, everything within flushMs', async () => {
    const j = await open({ flushMs: 30 });
    expect(j.append('note', { payload: { i: 1 } })).toBe(1);
    expect(j.append('note', { payload: { i: 2 } })).toBe(2);
    // checked before any await: a DuckDB query here could outlast flushMs on a loaded machine
    expect(j.stats()).toMatchObject({ lastSeq: 2, committedSeq: 0, pending: 2 });
    const t = performance.now();
    while (j.stats().committedSeq < 2 && performance.now() - t < 10_000) await sleep(5);
    expect(await committed()).toEqual([1, 2]);
    expect(j.stats()).toMatchObject({ lastSeq: 2, committedSeq: 2, pending: 0, commits: 1 });
  });

  it('a durable append commits the buffered records before it, in seq order, in one commit', async () => {
    const j = await open({ flushMs: 60_000 });
    j.append('order_event', { clientOrderId: 'c1', payload: { type: 'accepted' } });
    j.append('fill', { clientOrderId: 'c1', instrument: 'SPY', payload: { executionId: 'e1', side: 'BUY', quantity: 5, price: 10 } });
    expect(await committed()).toEqual([]);
    const seq = await j.appendDurable('order_intent', { clientOrderId: 'c2' });
    expect(seq).toBe(3);
    expect(await committed()).toEqual([1, 2, 3]);
    expect(j.stats().commits).toBe(1);
  });

  it('appends made in the same tick share one commit (group commit)', async () => {
    const j = await open();
    const seqs = await Promise.all(Array.from({ length: 25 }, (_, i) => j.appendDurable('note', { payload: { i } })));
    expect(seqs).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(j.stats().commits).toBe(1);
    expect(await committed()).toEqual(seqs);
  });

  it('appends made while a commit is in flight go together into the next commit', async () => {
    const j = await open();
    const first = j.appendDurable('note', { payload: { wave: 1 } });
    await Promise.resolve(); // the first commit starts
    await Promise.resolve();
    const second = Array.from({ length: 10 }, () => j.appendDurable('note', { payload: { wave: 2 } }));
    await Promise.all([first, ...second]);
    expect(j.stats().commits).toBe(2);
    expect(await committed()).toEqual(Array.from({ length: 11 }, (_, i) => i + 1));
  });

  it('a backlog larger than maxBatch is written as several commits, still in order', async () => {
    const j = await open({ maxBatch: 100, flushMs: 60_000 });
    for (let i = 0; i < 250; i++) j.append('note', { payload: { i } });
    await j.flush();
    const seqs = await committed();
    expect(seqs).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(j.stats().commits).toBeGreaterThanOrEqual(3);
  });

  it('refuses bad records without using a seq', async () => {
    const j = await open();
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(JournalError);
        return (e as JournalError).code;
      }
      return 'no error';
    };
    expect(code(() => j.append('bogus' as never))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('order_intent', { instrument: 'SPY' }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('order_submitted', { clientOrderId: 'c1' }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('order_event', { clientOrderId: 'c1', payload: {} }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('fill', { clientOrderId: 'c1', instrument: 'SPY', payload: { side: 'BUY', quantity: 1, price: 1 } }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('fill', { clientOrderId: 'c1', instrument: 'SPY', payload: { executionId: 'e', side: 'buy', quantity: 1 } }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('fill', { clientOrderId: 'c1', payload: { executionId: 'e', side: 'BUY', quantity: 1 } }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('snapshot', { payload: [1, 2] }))).toBe('JOURNAL_INPUT');
    expect(code(() => j.append('note', { payload: { big: 1n } }))).toBe('JOURNAL_INPUT');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expect(code(() => j.append('note', { payload: cyclic }))).toBe('JOURNAL_INPUT');
    await expect(j.appendDurable('order_intent', {})).rejects.toMatchObject({ code: 'JOURNAL_INPUT' });
    expect(await j.appendDurable('note')).toBe(1);
  });

  it('a failed commit fails the journal: waiters rejected, onError called once, later appends refused', async () => {
    const errors: JournalError[] = [];
    const j = await open({ onError: (e) => errors.push(e) });
    await j.appendDurable('note');
    // another writer takes seq 2 behind the journal's back: its next commit violates the primary key
    await store.run(`INSERT INTO journal VALUES ('run-1', 2, NULL, current_timestamp, 'note', NULL, NULL, NULL, NULL, '{}')`);
    const a = j.appendDurable('note');
    const b = j.appendDurable('note');
    await expect(a).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    await expect(b).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    expect(errors).toHaveLength(1);
    expect(j.error?.code).toBe('JOURNAL_WRITE');
    expect(() => j.append('note')).toThrow(JournalError);
    await expect(j.flush()).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    await expect(j.close('x')).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    expect(await committed()).toEqual([1, 2]);
  });
});

describe('close and resume', () => {
  it('close commits what is pending, records the end, refuses later appends; idempotent', async () => {
    let wall = Date.UTC(2024, 0, 2, 14, 30);
    const j = await open({ flushMs: 60_000, wallClock: () => wall });
    j.append('note');
    j.append('note');
    wall += 5000;
    await j.close('session end');
    await j.close('again');
    expect(await committed()).toEqual([1, 2]);
    expect(await Journal.find(store, 'run-1')).toMatchObject({ endedAt: wall, endReason: 'session end' });
    expect(j.isClosed).toBe(true);
    expect(() => j.append('note')).toThrow(expect.objectContaining({ code: 'JOURNAL_CLOSED' }));
  });

  it('resume continues after the last committed seq, never repeating one; buffered records of the dead process are gone', async () => {
    // the "crashed" process: 3 durable records, 2 buffered that never reach the database
    const dead = await open({ flushMs: 1e9 });
    for (let i = 0; i < 3; i++) await dead.appendDurable('decision', { decisionId: `d${i}` });
    dead.append('note');
    dead.append('note');
    const j = await Journal.resume(store, 'run-1', { host: 'other-host', pid: 99 });
    journals.push(j);
    expect(j.stats()).toMatchObject({ lastSeq: 4, committedSeq: 4 });
    const rows = await readJournal(store, 'run-1');
    expect(rows.map((r) => [r.seq, r.kind])).toEqual([
      [1, 'decision'],
      [2, 'decision'],
      [3, 'decision'],
      [4, 'note'],
    ]);
    expect(rows[3]!.payload).toMatchObject({ event: 'restart', restarts: 1, lastSeq: 3, host: 'other-host', pid: 99, previousEnd: 'crash or still running' });
    expect(await j.appendDurable('order_intent', { clientOrderId: 'c1' })).toBe(5);
    expect(await Journal.find(store, 'run-1')).toMatchObject({ restarts: 1, host: 'other-host', pid: 99, endedAt: null });
    await j.close('done');
    const again = await Journal.resume(store, 'run-1');
    journals.push(again);
    expect(again.run.restarts).toBe(2);
    expect((await readJournal(store, 'run-1')).at(-1)!.payload).toMatchObject({ event: 'restart', lastSeq: 5, previousEnd: 'done' });
    expect(await again.appendDurable('note')).toBe(7);
  });

  it('resume of an unknown run is JOURNAL_NOT_FOUND', async () => {
    await expect(Journal.resume(store, 'nope')).rejects.toMatchObject({ code: 'JOURNAL_NOT_FOUND' });
  });

  it('seq is per run: two runs in one store count independently', async () => {
    const a = await open();
    const b = await open({}, { ...RUN, runId: 'run-2' });
    expect(await a.appendDurable('note')).toBe(1);
    expect(await b.appendDurable('note')).toBe(1);
    expect(await a.appendDurable('note')).toBe(2);
    expect(await committed('run-2')).toEqual([1]);
  });
});

describe('append rate (file-backed store)', () => {
  it('measures sequential durable, same-tick durable and buffered appends', async () => {
    const j = await open({ flushMs: 10 });
    const payload = { inputs: { fast: 101.25, slow: 100.5, atr: 1.1 }, order: { instrument: 'SPY', side: 'BUY', quantity: 100, type: 'LIMIT', limitPrice: 101.3 } };
    const rate = async (n: number, fn: () => Promise<unknown>) => {
      const t = performance.now();
      await fn();
      return n / ((performance.now() - t) / 1000);
    };
    const SEQ = 300;
    const sequential = await rate(SEQ, async () => {
      for (let i = 0; i < SEQ; i++) await j.appendDurable('order_intent', { clientOrderId: `c${i}`, instrument: 'SPY', payload });
    });
    const TICK = 5000;
    const sameTick = await rate(TICK, () => Promise.all(Array.from({ length: TICK }, (_, i) => j.appendDurable('decision', { decisionId: `d${i}`, payload }))));
    const BUF = 50_000;
    const commitsBefore = j.stats().commits;
    const buffered = await rate(BUF, async () => {
      for (let i = 0; i < BUF; i++) j.append('order_event', { clientOrderId: `c${i}`, instrument: 'SPY', payload: { type: 'accepted', ...payload } });
      await j.flush();
    });
    const s = j.stats();
    const msPerCommit = s.commitMs / s.commits;
    console.log(
      `journal append rates: durable sequential ${sequential.toFixed(0)}/s (${(1000 / sequential).toFixed(2)} ms each), ` +
        `durable same-tick ${sameTick.toFixed(0)}/s, buffered ${buffered.toFixed(0)}/s (${s.commits - commitsBefore} commits); mean commit ${msPerCommit.toFixed(2)} ms`,
    );
    expect(s.committedSeq).toBe(SEQ + TICK + BUF);
    expect(await committed()).toHaveLength(SEQ + TICK + BUF);
    // sanity floors far below the measured rates (a 2-core CI machine)
    expect(sequential).toBeGreaterThan(50);
    expect(sameTick).toBeGreaterThan(2000);
    expect(buffered).toBeGreaterThan(5000);
  });
});
