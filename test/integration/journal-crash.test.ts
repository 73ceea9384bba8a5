import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { intentLogPath, readIntentLog } from '../../lib/journal/intent-log.js';
import { readJournal, syncIntentLog, type JournalRecord } from '../../lib/journal/journal.js';
import { recover, type RecoveredOrderState } from '../../lib/journal/recovery.js';
import { Store } from '../../lib/store/store.js';

/**
 * kill -9 of a journaling process at random moments, then restart: every record the child saw
 * durable is there, seqs are contiguous with no duplicate, no order reached the (fake) broker
 * without a durable intent, none was sent twice, and recovery classifies the last intent as the
 * journal and the broker say it must be.
 *
 * Durable appends go to the journal's write-ahead intent log and reach DuckDB in batches, so a
 * killed child leaves records only in the log. The parent checks every iteration on a copy of the
 * database and log (replayed there by `syncIntentLog`, as `recover()` does); on even iterations it
 * then replays the real files itself, on odd ones it leaves them for the next child's
 * `Journal.resume` to replay: both paths are checked by the records the next iteration finds.
 */

const CHILD = path.resolve('test/fixtures/journal-crash-child.ts');
const SEED = 20240607;
const ITERATIONS = 8;
const RUN = 'crash-run';
/** Iterations whose child SIGKILLs itself at a chosen moment of its k-th order */
const SELF_KILLS: Record<number, string> = { 2: 'after-send:3', 5: 'after-intent:2' };

const dir = mkdtempSync(path.join(os.tmpdir(), 'monger-journal-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChildRun {
  /** seq -> "kind clientOrderId" of every append the child reported committed */
  durable: Map<number, string>;
  ready: boolean;
  aliveMs: number;
  readyMs: number;
  killedAfterMs: number;
  stderr: string;
}

/** Runs one child and SIGKILLs it `delayMs` after READY (or after spawn when `early`) */
function runChild(db: string, brokerLog: string, seed: number, delayMs: number, early: boolean, selfKill: string): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, db, RUN, brokerLog, String(seed), selfKill], { stdio: ['ignore', 'pipe', 'pipe'] });
    const result: ChildRun = { durable: new Map(), ready: false, aliveMs: 0, readyMs: 0, killedAfterMs: 0, stderr: '' };
    let buffer = '';
    let killTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      result.killedAfterMs = performance.now() - started;
      child.kill('SIGKILL');
    };
    const safety = setTimeout(kill, 60_000);
    if (early) killTimer = setTimeout(kill, delayMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const [tag, a, b, c] = line.split(' ');
        if (tag === 'D') {
          const seq = Number(a);
          if (result.durable.has(seq)) reject(new Error(`child reported seq ${seq} twice`));
          result.durable.set(seq, `${b} ${c}`);
        } else if (tag === 'READY' && !result.ready) {
          result.ready = true;
          result.readyMs = performance.now() - started;
          if (!early) killTimer = setTimeout(kill, delayMs);
        }
      }
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => (result.stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(safety);
      if (killTimer !== undefined) clearTimeout(killTimer);
      result.aliveMs = performance.now() - started;
      if (signal !== 'SIGKILL') reject(new Error(`child exited by itself (code ${code}, signal ${signal}):\n${result.stderr}`));
      else resolve(result);
    });
  });
}

/** Orders at the fake broker: complete lines, in arrival order */
function brokerLines(brokerLog: string): string[] {
  if (!existsSync(brokerLog)) return [];
  const text = readFileSync(brokerLog, 'utf8');
  const complete = text.endsWith('\n') ? text : text.slice(0, text.lastIndexOf('\n') + 1);
  return complete.split('\n').filter((l) => l.includes(' '));
}

/** The state an order must recover to, decided from its rows directly (independently of recovery.ts) */
function expectedState(rows: JournalRecord[], coid: string): RecoveredOrderState {
  let state: RecoveredOrderState = 'unconfirmed';
  for (const r of rows) {
    if (r.clientOrderId !== coid) continue;
    const p = r.payload as { type?: string; status?: string };
    if (r.kind === 'reconcile') state = p.status === 'NOT_FOUND' ? 'closed' : 'open';
    else if (state === 'closed') continue;
    else if (r.kind === 'order_event' && (p.type === 'filled' || p.type === 'cancelled')) state = 'closed';
    else if (r.kind === 'order_submitted' || r.kind === 'order_event') state = 'open';
  }
  return state;
}

describe('journal under kill -9', () => {
  it(
    `recovers every committed record after ${ITERATIONS} SIGKILLs at random moments (seed ${SEED})`,
    async () => {
      const rng = mulberry32(SEED);
      const db = path.join(dir, 'journal.duckdb');
      const brokerLog = path.join(dir, 'broker.log');
      const claimed = new Map<number, string>();
      let previousUnconfirmed: string[] = [];
      let durableTotal = 0;
      let aliveTotal = 0;
      const classified: Record<RecoveredOrderState, number> = { unconfirmed: 0, open: 0, closed: 0 };
      const kills: string[] = [];
      /** Seqs reported durable that DuckDB lacked when the child died: the intent log had them */
      const savedByLog = new Set<number>();
      const logProblems: string[] = [];
      let replayed = 0;
      let afterIntentChecked = false;

      for (let i = 0; i < ITERATIONS; i++) {
        // most kills land in the trading loop; some anywhere from process start (open, resume, reconcile);
        // two children kill themselves at the moments a restart must tell apart: intent committed but
        // not sent, and sent but not yet recorded as submitted
        const selfKill = SELF_KILLS[i] ?? 'none';
        const early = selfKill === 'none' && i > 0 && rng() < 0.25;
        const delay = selfKill !== 'none' ? 30_000 : early ? 300 + Math.floor(rng() * 1500) : 20 + Math.floor(rng() * 400);
        const child = await runChild(db, brokerLog, SEED + i, delay, early, selfKill);
        kills.push(`${selfKill !== 'none' ? selfKill : early ? 'early' : 'loop'}@${Math.round(child.killedAfterMs || child.aliveMs)}ms:${child.durable.size}`);
        if (i === 0) expect(child.ready, `first child never got ready:\n${child.stderr}`).toBe(true);
        durableTotal += child.durable.size;
        aliveTotal += child.ready ? child.aliveMs - child.readyMs : 0;
        for (const [seq, what] of child.durable) {
          const before = claimed.get(seq);
          // a seq the child reported committed can never be handed out again
          expect(before, `seq ${seq} reported committed twice: ${before} / ${what}`).toBeUndefined();
          claimed.set(seq, what);
        }
        const walExists = existsSync(db + '.wal') && statSync(db + '.wal').size > 0;
        const log = readIntentLog(intentLogPath(db, RUN));
        if (log.problem) logProblems.push(`${i}: ${log.problem.reason}${log.problem.torn ? ' (torn)' : ''}`);

        // the checks run on a copy: the real files stay as the child left them
        const copy = path.join(dir, `check-${i}.duckdb`);
        copyFileSync(db, copy);
        if (existsSync(db + '.wal')) copyFileSync(db + '.wal', copy + '.wal');
        if (existsSync(intentLogPath(db, RUN))) copyFileSync(intentLogPath(db, RUN), intentLogPath(copy, RUN));
        // the parent reopens the killed database (DuckDB's WAL replay), then the intent log's
        const store = await Store.open(copy);
        try {
          const inDuckDb = new Set((await readJournal(store, RUN)).map((r) => r.seq));
          const replay = await syncIntentLog(store, RUN);
          const rows = await readJournal(store, RUN);
          for (const seq of claimed.keys()) if (!inDuckDb.has(seq)) savedByLog.add(seq);
          replayed += replay.inserted;
          const bySeq = new Map(rows.map((r) => [r.seq, r]));
          // every record reported durable is there, as reported
          for (const [seq, what] of claimed) {
            const r = bySeq.get(seq);
            expect(r, `seq ${seq} (${what}) was reported committed but is missing (iteration ${i}, wal ${walExists})`).toBeDefined();
            expect(`${r!.kind} ${r!.clientOrderId ?? '-'}`).toBe(what);
          }
          // killed right after appendDurable('order_intent') returned: the intent was only in the log
          // (its DuckDB insert waits for flushMs, a timer that cannot run before the kill) and is back
          if (selfKill.startsWith('after-intent')) {
            const intent = [...child.durable].filter(([, what]) => what.startsWith('order_intent')).at(-1);
            expect(intent, 'the after-intent child reported no intent').toBeDefined();
            expect(inDuckDb.has(intent![0]), 'the killed intent was in DuckDB already').toBe(false);
            expect(log.records.some((r) => r.seq === intent![0]), 'the killed intent is not in the intent log').toBe(true);
            expect(bySeq.get(intent![0])?.kind).toBe('order_intent');
            afterIntentChecked = true;
          }
          // contiguous 1..n, no duplicates
          expect(rows.map((r) => r.seq)).toEqual(rows.map((_, k) => k + 1));

          // intent before action, never twice: every order the broker got has a committed intent
          const sent = brokerLines(brokerLog).map((l) => l.split(' ')[0]!);
          expect(new Set(sent).size, 'an order reached the broker twice').toBe(sent.length);
          const intents = new Map(rows.filter((r) => r.kind === 'order_intent').map((r) => [r.clientOrderId!, r]));
          for (const coid of sent) expect(intents.has(coid), `order ${coid} reached the broker without a committed intent`).toBe(true);

          const rec = await recover(store, RUN);
          expect(rec.contiguous).toBe(true);
          expect(rec.lastSeq).toBe(rows.length);

          // every order recovers to the state its rows imply; the last intent is the one a crash cuts
          for (const [coid] of intents) expect(rec.orders.get(coid)!.state, coid).toBe(expectedState(rows, coid));
          const lastIntent = [...intents.values()].at(-1);
          if (lastIntent !== undefined) {
            const coid = lastIntent.clientOrderId!;
            const state = rec.orders.get(coid)!.state;
            classified[state]++;
            if ([...child.durable.values()].includes(`order_submitted ${coid}`)) expect(state).not.toBe('unconfirmed');
            if (state === 'unconfirmed') {
              expect(rows.some((r) => r.kind === 'order_submitted' && r.clientOrderId === coid)).toBe(false);
            }
          }

          // the previous crash's unconfirmed intents were reconciled against the broker by this child
          if (child.ready) {
            for (const coid of previousUnconfirmed) {
              const reconcile = rows.find((r) => r.kind === 'reconcile' && r.clientOrderId === coid);
              expect(reconcile, `unconfirmed ${coid} was not reconciled`).toBeDefined();
              expect((reconcile!.payload as { status: string }).status).toBe(sent.includes(coid) ? 'ACCEPTED' : 'NOT_FOUND');
            }
          }
          previousUnconfirmed = child.ready || previousUnconfirmed.length === 0 ? rec.unconfirmed.map((o) => o.clientOrderId) : [...new Set([...previousUnconfirmed, ...rec.unconfirmed.map((o) => o.clientOrderId)])];

          // fills counted once per execution id; positions = independent sum over distinct executions
          const seen = new Set<string>();
          let quantity = 0;
          let duplicates = 0;
          for (const r of rows) {
            if (r.kind !== 'fill') continue;
            const f = r.payload as { executionId: string; side: string; quantity: number };
            if (seen.has(f.executionId)) {
              duplicates++;
              continue;
            }
            seen.add(f.executionId);
            quantity += f.side === 'BUY' ? f.quantity : -f.quantity;
          }
          expect(rec.fillsSeen.size).toBe(seen.size);
          expect(rec.duplicateFills).toBe(duplicates);
          expect(rec.positions['SPY']?.quantity ?? 0).toBe(quantity);
        } finally {
          store.close();
        }
        // even iterations: the parent replays the real log (as recover() would); odd: the next child's resume does
        if (i % 2 === 0) {
          const real = await Store.open(db);
          try {
            await syncIntentLog(real, RUN);
          } finally {
            real.close();
          }
        }
      }

      const final = await Store.open(db);
      await syncIntentLog(final, RUN);
      const reconciled = await final.all<{ status: string; n: number }>(
        `SELECT payload->>'status' AS status, CAST(count(*) AS INTEGER) AS n FROM journal WHERE run_id = $1 AND kind = 'reconcile' GROUP BY 1 ORDER BY 1`,
        [RUN],
      );
      final.close();
      const rate = durableTotal / (aliveTotal / 1000);
      console.log(
        `journal crash test: ${ITERATIONS} kills (${kills.join(', ')}), ${claimed.size} records reported durable, ` +
          `${durableTotal} durable appends at ${rate.toFixed(0)}/s in the children's trading loops; last intent classified ${JSON.stringify(classified)}; ` +
          `unconfirmed intents reconciled: ${reconciled.map((r) => `${r.status} ${r.n}`).join(', ') || 'none'}; ` +
          `${savedByLog.size} durable records only in the intent log at a kill, ${replayed} replayed on the checked copies; log problems: ${logProblems.join(', ') || 'none'}`,
      );
      expect(claimed.size).toBeGreaterThan(ITERATIONS * 5);
      expect(afterIntentChecked).toBe(true);
      expect(savedByLog.size).toBeGreaterThan(0);
      // both outcomes of an interrupted submission were met and resolved from the broker's answer
      expect(reconciled.map((r) => r.status)).toEqual(expect.arrayContaining(['ACCEPTED', 'NOT_FOUND']));
    },
    180_000,
  );
});
