import { closeSync, existsSync, fdatasyncSync, fsyncSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The journal's write-ahead intent log: a plain file next to the journal's DuckDB file that makes
 * `appendDurable` cost one write + fdatasync (~0.1-0.2 ms) instead of a DuckDB commit (milliseconds,
 * with a long tail from checkpoints). The records go into DuckDB afterwards, batched; a crash before
 * that is repaired by replaying the log into DuckDB on the next open (journal.ts, `syncIntentLog`).
 *
 * One file per run (`<db>.<runId>.intents`), one record per line: `<crc32 as 8 hex> <record JSON>\n`,
 * the JSON being the exact element the journal's INSERT unnests (`{"s":seq,...}`). Seqs increase
 * along the file (not necessarily by one: records DuckDB committed before anything needed them
 * durable are never logged).
 *
 * The file is preallocated (zeros) and written in place: an fdatasync that changes no file size
 * flushes only its own pages and does not wait for the filesystem's journal, which under other
 * processes' writes is the difference between 0.1 and several ms. Every write ends with a NUL byte,
 * the end mark (the next write starts on it): the zeros of a fresh file and whatever follows the
 * mark are never read. Once DuckDB holds every logged record the journal `rewind`s: writing starts
 * again at offset 0 over the old lines (no I/O), so the file stays small.
 *
 * A crash mid-write leaves a torn line: cut before its newline or with a wrong checksum. It was
 * never reported durable; the reader reports it and stops there (valid lines after it, old lines of
 * an earlier pass, are reported too: the replay inserts those DuckDB lacks, normally none).
 *
 * Everything here is synchronous: the caller writes and fdatasyncs one group of records per turn
 * (the disk's cost: 0.1-0.2 ms on a quiet machine, milliseconds under load), and waiting for the
 * thread pool would add more than that whenever DuckDB's commits occupy it.
 */

/** One logged record: its seq and the JSON element of the journal's INSERT */
export interface LoggedRecord {
  seq: number;
  json: string;
}

export interface IntentLogContents {
  /** The valid lines up to the end mark or the first bad line */
  records: LoggedRecord[];
  /** Checksum-valid lines after a bad line (older lines, or records past damage), in file order */
  later: LoggedRecord[];
  /** Bytes read before the end mark */
  bytes: number;
  /**
   * Why reading stopped before the end mark: `torn` when nothing newer than the records follows
   * (a write the crash cut short, never reported durable), else damage
   */
  problem?: { line: number; reason: string; torn: boolean };
}

/**
 * The journal's INSERT: $2 is a JSON array of records in the form the log stores them, one per line
 * (`{"s":seq,"t":ts us,"w":wall us,"k":kind,"d":decision,"c":client order,"b":broker order,"i":instrument,"p":payload}`)
 */
export const JOURNAL_INSERT_SQL = `INSERT INTO journal (run_id, seq, ts, wall_ts, kind, decision_id, client_order_id, broker_order_id, instrument, payload)
SELECT $1, s, make_timestamp(t), make_timestamp(w), k, d, c, b, i, p
FROM (SELECT unnest(from_json($2, '[{"s":"BIGINT","t":"BIGINT","w":"BIGINT","k":"VARCHAR","d":"VARCHAR","c":"VARCHAR","b":"VARCHAR","i":"VARCHAR","p":"JSON"}]'), recursive := true))`;

/** Preallocated size of a new log; it grows past it only while DuckDB lags behind */
export const INTENT_LOG_CAPACITY = 2 * 1024 * 1024;
const END = '\0';

/** The intent log of a run whose journal lives in the DuckDB file `dbPath` */
export function intentLogPath(dbPath: string, runId: string): string {
  return `${dbPath}.${encodeURIComponent(runId)}.intents`;
}

/** One line of the log (with its newline) */
export function intentLine(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The records of a log file (none when there is no file) */
export function readIntentLog(path: string): IntentLogContents {
  if (!existsSync(path)) return { records: [], later: [], bytes: 0 };
  const text = readFileSync(path, 'utf8');
  const end = text.startsWith(END) ? 0 : text.indexOf(`\n${END}`) + 1 || text.length;
  const lines = text.slice(0, end).split('\n');
  const records: LoggedRecord[] = [];
  const later: LoggedRecord[] = [];
  let problem: { line: number; reason: string } | undefined;
  let last = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // the piece after the last newline: empty at a clean end, else a line the crash cut short
    const cut = i === lines.length - 1;
    if (cut && line.length === 0) break;
    const parsed = cut ? { reason: 'no newline (write cut short)' } : parseLine(line);
    if ('reason' in parsed) {
      problem ??= { line: i + 1, reason: parsed.reason };
      continue;
    }
    if (problem === undefined && parsed.seq <= last) problem = { line: i + 1, reason: `seq ${parsed.seq} does not follow ${last}` };
    if (problem !== undefined) later.push(parsed);
    else {
      records.push(parsed);
      last = parsed.seq;
    }
  }
  const bytes = Buffer.byteLength(text.slice(0, end));
  if (problem === undefined) return { records, later, bytes };
  return { records, later, bytes, problem: { ...problem, torn: later.every((r) => r.seq <= last) } };
}

function parseLine(line: string): LoggedRecord | { reason: string } {
  const json = line.slice(9);
  if (line.charAt(8) !== ' ' || !/^[0-9a-f]{8}$/.test(line.slice(0, 8))) return { reason: 'no checksum' };
  if (crc32(json) !== parseInt(line.slice(0, 8), 16)) return { reason: 'checksum mismatch' };
  let seq: unknown;
  try {
    seq = (JSON.parse(json) as { s?: unknown }).s;
  } catch {
    return { reason: 'not JSON' };
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= 0) return { reason: `no seq (${String(seq)})` };
  return { seq, json };
}

/** The open log of one live journal. Not thread-safe, not shared: one writer per file. */
export class IntentLog {
  private fd: number | undefined;
  private size = 0;

  private constructor(
    readonly path: string,
    fd: number,
  ) {
    this.fd = fd;
  }

  /**
   * Creates the log empty (a log being opened has been replayed, or belongs to a new run),
   * preallocated with `capacity` zeros and synced with its directory entry, so that an fdatasync
   * of the file later is enough for its lines to survive a power loss.
   */
  static create(path: string, capacity = INTENT_LOG_CAPACITY): IntentLog {
    const existed = existsSync(path);
    const fd = openSync(path, 'w');
    try {
      const zeros = Buffer.alloc(Math.min(capacity, 256 * 1024));
      for (let at = 0; at < capacity; ) at += writeSync(fd, zeros, 0, Math.min(zeros.length, capacity - at), at);
      fsyncSync(fd);
      if (!existed) syncDirectory(dirname(path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new IntentLog(path, fd);
  }

  /** Bytes of lines written since the last rewind */
  get bytes(): number {
    return this.size;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Writes the lines and the end mark after them (not durable yet: see `append`); returns the lines' bytes. Throws on I/O errors. */
  write(lines: string): number {
    const fd = this.openFd();
    const buffer = Buffer.from(lines + END, 'utf8');
    let off = 0;
    while (off < buffer.length) off += writeSync(fd, buffer, off, buffer.length - off, this.size + off);
    const bytes = buffer.length - 1;
    this.size += bytes;
    return bytes;
  }

  /** Writes the lines and returns their bytes once they are durable (write + fdatasync). Throws on I/O errors. */
  append(lines: string): number {
    const bytes = this.write(lines);
    fdatasyncSync(this.openFd());
    return bytes;
  }

  /**
   * Starts writing at offset 0 again, once DuckDB holds every record in the log. No I/O: until the
   * next write the old lines read as they are (DuckDB has them: the replay skips them); after it,
   * the new end mark hides them.
   */
  rewind(): void {
    this.openFd();
    this.size = 0;
  }

  /** Closes the file; `remove` deletes it (only when DuckDB holds everything it ever held) */
  close(remove: boolean): void {
    if (this.fd === undefined) return;
    const fd = this.fd;
    this.fd = undefined;
    closeSync(fd);
    if (remove) unlinkSync(this.path);
  }

  private openFd(): number {
    if (this.fd === undefined) throw new Error(`intent log ${this.path} is closed`);
    return this.fd;
  }
}

/** Deletes a replayed log (DuckDB holds its records durably) */
export function removeIntentLog(path: string): void {
  if (existsSync(path)) unlinkSync(path);
}

function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
