import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger, type LogRecord } from '../core/logger.js';
import { Store } from '../store/store.js';
import { INTENT_LOG_CAPACITY, IntentLog, intentLine, intentLogPath, readIntentLog } from './intent-log.js';
import { Journal, readJournal, syncIntentLog, type JournalRunInfo } from './journal.js';
import { recover } from './recovery.js';

let dir: string;
let store: Store;
const RUN: JournalRunInfo = { runId: 'run/1', mode: 'paper', strategy: 'sma-cross', strategyVersion: '1.0.0', configHash: 'abc', host: 'h', pid: 1 };

beforeEach(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'monger-intent-log-'));
  store = await Store.open(path.join(dir, 'journal.duckdb'));
});

afterEach(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const logPath = () => intentLogPath(store.path, RUN.runId!);
const seqs = async () => (await readJournal(store, RUN.runId!)).map((r) => r.seq);
/** A record as the journal's INSERT reads it (what the journal itself writes to the log) */
const rec = (seq: number, kind = 'note', c: string | null = null) =>
  `{"s":${seq},"t":null,"w":${1_700_000_000_000_000 + seq},"k":"${kind}","d":null,"c":${c === null ? 'null' : JSON.stringify(c)},"b":null,"i":null,"p":{"n":${seq}}}`;

function capture(): { records: LogRecord[]; logger: ReturnType<typeof createLogger> } {
  const records: LogRecord[] = [];
  return { records, logger: createLogger({ level: 'debug', now: () => 0, sink: (r) => records.push(r) }) };
}

async function waitFor(ok: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = performance.now() + 10_000;
  while (!(await ok())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

describe('the log file', () => {
  it('reads back what was written, up to the end mark; a run id is encoded into one file name', () => {
    const p = intentLogPath(path.join(dir, 'j.duckdb'), 'a/b c');
    expect(path.dirname(p)).toBe(dir);
    expect(path.basename(p)).toBe('j.duckdb.a%2Fb%20c.intents');
    const log = IntentLog.create(p);
    // preallocated: writing never changes the file's size
    expect(statSync(p).size).toBe(INTENT_LOG_CAPACITY);
    log.append(intentLine(rec(1)) + intentLine(rec(2)));
    log.append(intentLine(rec(5)));
    expect(statSync(p).size).toBe(INTENT_LOG_CAPACITY);
    expect(readIntentLog(p)).toEqual({ records: [1, 2, 5].map((s) => ({ seq: s, json: rec(s) })), later: [], bytes: log.bytes });
    // rewound (DuckDB holds 1..5): the next, shorter write hides the old lines behind its end mark
    log.rewind();
    log.append(intentLine(rec(6)));
    expect(readIntentLog(p).records.map((r) => r.seq)).toEqual([6]);
    log.close(false);
  });

  it('a torn last line (no newline, or a bad checksum with nothing newer after it) is reported as torn', () => {
    const p = path.join(dir, 'torn.intents');
    const cut = intentLine(rec(3));
    writeFileSync(p, intentLine(rec(1)) + intentLine(rec(2)) + cut.slice(0, cut.length - 10) + '\0'.repeat(100));
    const r = readIntentLog(p);
    expect(r.records.map((x) => x.seq)).toEqual([1, 2]);
    expect(r.problem).toEqual({ line: 3, reason: 'no newline (write cut short)', torn: true });
    // a rewound log whose new write was cut: the rest of the line is an old one's, old lines follow
    writeFileSync(p, intentLine(rec(7)) + cut.slice(0, 30) + intentLine(rec(4)).slice(20) + intentLine(rec(5)) + '\0');
    const rewound = readIntentLog(p);
    expect(rewound.records.map((x) => x.seq)).toEqual([7]);
    expect(rewound.later.map((x) => x.seq)).toEqual([5]);
    expect(rewound.problem).toEqual({ line: 2, reason: 'checksum mismatch', torn: true });
  });

  it('damage before newer lines is not torn: the newer records are reported, to be replayed', () => {
    const p = path.join(dir, 'damaged.intents');
    const bad = intentLine(rec(2)).replace('"n":2', '"n":7');
    writeFileSync(p, intentLine(rec(1)) + bad + intentLine(rec(3)) + intentLine(rec(4)));
    const r = readIntentLog(p);
    expect(r.records.map((x) => x.seq)).toEqual([1]);
    expect(r.later.map((x) => x.seq)).toEqual([3, 4]);
    expect(r.problem).toEqual({ line: 2, reason: 'checksum mismatch', torn: false });
    writeFileSync(p, intentLine(rec(2)) + intentLine(rec(2)));
    expect(readIntentLog(p).problem).toMatchObject({ line: 2, reason: 'seq 2 does not follow 2' });
    expect(readIntentLog(path.join(dir, 'none.intents'))).toEqual({ records: [], later: [], bytes: 0 });
  });
});

describe('Journal with an intent log', () => {
  it('a durable append is in the log when it resolves; DuckDB follows within flushMs and the log is emptied', async () => {
    const j = await Journal.open(store, RUN, { flushMs: 40 });
    const seq = await j.appendDurable('order_intent', { clientOrderId: 'c1', instrument: 'SPY', payload: { side: 'BUY', quantity: 10 } });
    expect(seq).toBe(1);
    // durable in the log, not yet in DuckDB
    expect(readIntentLog(logPath()).records.map((r) => r.seq)).toEqual([1]);
    expect(await seqs()).toEqual([]);
    expect(j.stats()).toMatchObject({ lastSeq: 1, durableSeq: 1, committedSeq: 0, logWrites: 1 });
    await waitFor(() => j.stats().committedSeq === 1, 'the batched insert');
    const [row] = await readJournal(store, RUN.runId!);
    expect(row).toMatchObject({ seq: 1, kind: 'order_intent', clientOrderId: 'c1', instrument: 'SPY', payload: { side: 'BUY', quantity: 10 } });
    // DuckDB has 1: the log starts over, the next write holds only what DuckDB lacks
    expect(await j.appendDurable('note')).toBe(2);
    expect(readIntentLog(logPath()).records.map((r) => r.seq)).toEqual([2]);
    await j.close('done');
    expect(existsSync(logPath())).toBe(false);
  });

  it('same-tick durable appends share one log write; buffered records before them are logged with them (contiguous)', async () => {
    const j = await Journal.open(store, RUN, { flushMs: 60_000 });
    j.append('order_event', { clientOrderId: 'c0', payload: { type: 'accepted' } });
    j.append('note');
    const all = await Promise.all(Array.from({ length: 25 }, (_, i) => j.appendDurable('order_intent', { clientOrderId: `c${i + 1}` })));
    expect(all).toEqual(Array.from({ length: 25 }, (_, i) => i + 3));
    expect(j.stats()).toMatchObject({ logWrites: 1, commits: 0, durableSeq: 27 });
    expect(readIntentLog(logPath()).records.map((r) => r.seq)).toEqual(Array.from({ length: 27 }, (_, i) => i + 1));
    // records DuckDB committed before the next durable append are not logged again
    await j.flush();
    j.append('note');
    await j.flush();
    expect(await j.appendDurable('note')).toBe(29);
    expect(readIntentLog(logPath()).records.map((r) => r.seq)).toEqual([29]);
    await j.close();
    expect(await seqs()).toEqual(Array.from({ length: 29 }, (_, i) => i + 1));
  });

  it('records only in the log survive a "crash": resume replays them, seq continues, the old journal refuses appends', async () => {
    const dead = await Journal.open(store, RUN, { flushMs: 1e9 });
    for (let i = 0; i < 3; i++) await dead.appendDurable('order_intent', { clientOrderId: `c${i}` });
    dead.append('note'); // buffered, never durable: lost with the process
    expect(await seqs()).toEqual([]);
    const { records, logger } = capture();
    const j = await Journal.resume(store, RUN.runId!, { logger });
    expect(() => dead.append('note')).toThrow(expect.objectContaining({ code: 'JOURNAL_CLOSED' }));
    const rows = await readJournal(store, RUN.runId!);
    expect(rows.map((r) => [r.seq, r.kind, r.clientOrderId])).toEqual([
      [1, 'order_intent', 'c0'],
      [2, 'order_intent', 'c1'],
      [3, 'order_intent', 'c2'],
      [4, 'note', null],
    ]);
    expect(rows[3]!.payload).toMatchObject({ event: 'restart', lastSeq: 3, intentLog: { records: 3, inserted: 3, gap: false } });
    expect(records.map((r) => r.message)).toContain('journal: intent log replayed');
    expect(await j.appendDurable('order_intent', { clientOrderId: 'c3' })).toBe(5);
    const rec5 = await recover(store, RUN.runId!); // syncs the live journal's log first
    expect(rec5).toMatchObject({ contiguous: true, lastSeq: 5 });
    expect(rec5.unconfirmed.map((o) => o.clientOrderId)).toEqual(['c0', 'c1', 'c2', 'c3']);
    await j.close();
  });

  it('replay is idempotent: records DuckDB has are skipped, a torn last line is ignored with a warning, the log is deleted', async () => {
    const j = await Journal.open(store, RUN, { intentLog: false });
    for (let i = 0; i < 3; i++) await j.appendDurable('note', { payload: { n: i + 1 } });
    await j.close();
    // the log of a process that died after DuckDB took 1..3 and before it took 4..5, mid-write of 6
    writeFileSync(logPath(), [2, 3, 4, 5].map((s) => intentLine(rec(s))).join('') + intentLine(rec(6)).slice(0, 40));
    const { records, logger } = capture();
    const r = await syncIntentLog(store, RUN.runId!, { logger });
    expect(r).toMatchObject({ live: false, records: 4, inserted: 2, gap: false, problem: { line: 5, torn: true } });
    expect(records.filter((x) => x.level === 'warn').map((x) => x.message)).toEqual(['journal: intent log a torn last line (a write cut by a crash) ignored']);
    expect(existsSync(logPath())).toBe(false);
    const rows = await readJournal(store, RUN.runId!);
    expect(rows.map((x) => x.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[3]!.payload).toEqual({ n: 4 });
    expect(await syncIntentLog(store, RUN.runId!)).toMatchObject({ records: 0, inserted: 0 });
    // and a resume continues after the replayed records
    const again = await Journal.resume(store, RUN.runId!);
    expect(again.stats().lastSeq).toBe(6);
    await again.close();
  });

  it('a log that does not continue DuckDB is still inserted, the gap reported (recovery then sees the hole)', async () => {
    const j = await Journal.open(store, RUN, { intentLog: false });
    await j.appendDurable('note');
    await j.close();
    writeFileSync(logPath(), intentLine(rec(3)));
    const { records, logger } = capture();
    expect(await syncIntentLog(store, RUN.runId!, { logger })).toMatchObject({ records: 1, inserted: 1, gap: true });
    expect(records.some((x) => x.level === 'warn' && /not contiguous/.test(x.message))).toBe(true);
    expect((await recover(store, RUN.runId!)).contiguous).toBe(false);
  });

  it('replay after a rewind: old lines past a cut write are skipped (torn); records past real damage are still inserted', async () => {
    const j = await Journal.open(store, RUN, { intentLog: false });
    for (let i = 0; i < 5; i++) await j.appendDurable('note', { payload: { n: i + 1 } });
    await j.close();
    // DuckDB has 1..5; the rewound log got 6, then a write of 7 was cut inside what remains of the old lines 3..5
    const cut = intentLine(rec(7)).slice(0, 25);
    writeFileSync(logPath(), intentLine(rec(6)) + cut + [3, 4, 5].map((s) => intentLine(rec(s))).join('').slice(60) + '\0');
    const { records, logger } = capture();
    expect(await syncIntentLog(store, RUN.runId!, { logger })).toMatchObject({ inserted: 1, gap: false, problem: { line: 2, torn: true } });
    expect(records.filter((x) => x.level === 'warn').map((x) => x.message)).toEqual(['journal: intent log a torn last line (a write cut by a crash) ignored']);
    // damage: a bad line with records DuckDB lacks after it
    writeFileSync(logPath(), intentLine(rec(7)).replace('"n":7', '"n":0') + intentLine(rec(8)) + intentLine(rec(9)));
    const damaged = capture();
    expect(await syncIntentLog(store, RUN.runId!, { logger: damaged.logger })).toMatchObject({ inserted: 2, gap: true, problem: { line: 1, torn: false } });
    expect(damaged.records.filter((x) => x.level === 'warn').map((x) => x.message)).toEqual([
      'journal: the run is not contiguous after the intent log replay (records are missing)',
      'journal: intent log damaged at line 1: records after it replayed as found',
    ]);
    expect(await seqs()).toEqual([1, 2, 3, 4, 5, 6, 8, 9]);
  });

  it('a failed DuckDB commit fails the journal but keeps the log: its durable records are replayed later', async () => {
    const errors: unknown[] = [];
    const j = await Journal.open(store, RUN, { flushMs: 1e9, onError: (e) => errors.push(e) });
    expect(await j.appendDurable('order_intent', { clientOrderId: 'c1' })).toBe(1);
    // another writer takes seq 2: the journal's next commit (1..2) violates the primary key and rolls back
    await store.run(`INSERT INTO journal VALUES ('run/1', 2, NULL, current_timestamp, 'note', NULL, NULL, NULL, NULL, '{}')`);
    expect(await j.appendDurable('order_intent', { clientOrderId: 'c2' })).toBe(2);
    await expect(j.flush()).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    expect(errors).toHaveLength(1);
    await expect(j.appendDurable('note')).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    await expect(j.close()).rejects.toMatchObject({ code: 'JOURNAL_WRITE' });
    expect(readIntentLog(logPath()).records.map((r) => r.seq)).toEqual([1, 2]);
    // seq 1 only reached the log; seq 2 is the intruder's
    expect(await syncIntentLog(store, RUN.runId!)).toMatchObject({ records: 2, inserted: 1 });
    expect((await readJournal(store, RUN.runId!)).map((r) => [r.seq, r.kind])).toEqual([
      [1, 'order_intent'],
      [2, 'note'],
    ]);
  });

  it('a log at its size cap sends durable appends through DuckDB commits; an in-memory store has no log', async () => {
    const j = await Journal.open(store, RUN, { maxIntentLogBytes: 0 });
    expect(await j.appendDurable('note')).toBe(1);
    expect(await seqs()).toEqual([1]);
    expect(j.stats()).toMatchObject({ logWrites: 0, commits: 1 });
    await j.close();
    const mem = await Store.open(':memory:');
    try {
      const m = await Journal.open(mem, RUN);
      await m.appendDurable('note');
      expect(m.stats()).toMatchObject({ logWrites: 0, committedSeq: 1 });
      expect(await syncIntentLog(mem, RUN.runId!)).toEqual({ path: undefined, live: false, records: 0, inserted: 0, gap: false });
      await m.close();
    } finally {
      mem.close();
    }
  });

  it('opening a new run overwrites a stale log under its name (it belongs to another database) with a warning', async () => {
    writeFileSync(logPath(), intentLine(rec(1)));
    appendFileSync(logPath(), intentLine(rec(2)));
    const { records, logger } = capture();
    const j = await Journal.open(store, RUN, { logger });
    expect(records.map((r) => r.message)).toEqual(['journal: discarding an intent log of a run this database does not know']);
    expect(readIntentLog(logPath()).records).toEqual([]);
    expect(await j.appendDurable('note')).toBe(1);
    await j.close();
    // the stale records were never imported
    expect((await readJournal(store, RUN.runId!)).map((r) => [r.seq, r.payload])).toEqual([[1, {}]]);
  });

  it('measures sequential durable appends through the log against DuckDB commits (printed)', async () => {
    const N = 200;
    const payload = { orderRef: 'sma-cross@1.0.0#sma-cross-17', side: 'BUY', type: 'MKT', quantity: 10, tif: 'DAY' };
    const timed = async (j: Journal) => {
      const t = performance.now();
      for (let i = 0; i < N; i++) await j.appendDurable('order_intent', { clientOrderId: `c${i}`, instrument: 'SPY', payload });
      return (performance.now() - t) / N;
    };
    const logged = await Journal.open(store, RUN);
    const viaLog = await timed(logged);
    await logged.close();
    const committed = await Journal.open(store, { ...RUN, runId: 'run-2' }, { intentLog: false });
    const viaCommit = await timed(committed);
    await committed.close();
    console.log(`journal durable append: intent log ${viaLog.toFixed(3)} ms each, DuckDB commit ${viaCommit.toFixed(3)} ms each (${N} sequential)`);
    expect((await readJournal(store, RUN.runId!)).length).toBe(N);
    expect((await readJournal(store, 'run-2')).length).toBe(N);
  });
});
