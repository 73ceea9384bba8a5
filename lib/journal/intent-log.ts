import { closeSync, existsSync, fdatasync, fdatasyncSync, fsyncSync, ftruncateSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';

/**
 * The journal's write-ahead intent log: a plain append-only file next to the journal's DuckDB file
 * that makes `appendDurable` cost one write + fdatasync (~0.1-0.2 ms) instead of a DuckDB commit
 * (milliseconds, with a long tail from checkpoints). The records go into DuckDB afterwards, batched;
 * a crash before that is repaired by replaying the log into DuckDB on the next open (journal.ts,
 * `syncIntentLog`).
 *
 * One file per run (`<db>.<runId>.intents`), one record per line: `<crc32 as 8 hex> <record JSON>\n`,
 * the JSON being the exact element the journal's INSERT unnests (`{"s":seq,...}`). Lines are only
 * ever appended, seqs increase along the file (not necessarily by one: records DuckDB committed before
 * anything needed them durable are never logged). A crash mid-write leaves a torn last line: it has
 * no newline or a wrong checksum, and was never reported durable, so the reader stops there.
 *
 * Writing is synchronous (into the page cache: microseconds), the fdatasync that makes it durable
 * runs on the thread pool (`sync`): its cost is the disk's (0.1-0.2 ms on a quiet machine,
 * milliseconds under load), and the main thread has bars to decode and orders to send meanwhile.
 */

/** One logged record: its seq and the JSON element of the journal's INSERT */
export interface LoggedRecord {
  seq: number;
  json: string;
}

export interface IntentLogContents {
  records: LoggedRecord[];
  /** Bytes of the file */
  bytes: number;
  /** Why reading stopped early (a torn or corrupt line): the lines from there on are ignored */
  problem?: { line: number; reason: string; ignoredLines: number; torn: boolean };
}

/** The intent log of a run whose journal lives in the DuckDB file `dbPath` */
export function intentLogPath(dbPath: string, runId: string): string {
  return `${dbPath}.${encodeURIComponent(runId)}.intents`;
}

/** One line of the log (with its newline) */
export function intentLine(json: string): string {
  return `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`;
}

/** The valid prefix of a log file ([] when there is none) */
export function readIntentLog(path: string): IntentLogContents {
  if (!existsSync(path)) return { records: [], bytes: 0 };
  const text = readFileSync(path, 'utf8');
  const lines = text.split('\n');
  // text ends with '\n': the last piece is empty; otherwise it is an unterminated (torn) line
  const complete = lines.length - 1;
  const records: LoggedRecord[] = [];
  let last = 0;
  const stop = (i: number, reason: string): IntentLogContents => {
    const ignored = lines.slice(i).filter((l) => l.length > 0).length;
    // the last line: a write the crash cut short (never reported durable); earlier: damage
    return { records, bytes: Buffer.byteLength(text), problem: { line: i + 1, reason, ignoredLines: ignored, torn: ignored <= 1 } };
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (i === complete) {
      if (line.length > 0) return stop(i, 'no newline (write cut short)');
      break;
    }
    const space = line.indexOf(' ');
    const json = line.slice(space + 1);
    if (space !== 8 || !/^[0-9a-f]{8}$/.test(line.slice(0, 8))) return stop(i, 'no checksum');
    if (crc32(json) !== parseInt(line.slice(0, 8), 16)) return stop(i, 'checksum mismatch');
    let seq: unknown;
    try {
      seq = (JSON.parse(json) as { s?: unknown }).s;
    } catch {
      return stop(i, 'not JSON');
    }
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq <= last) return stop(i, `seq ${String(seq)} does not follow ${last}`);
    records.push({ seq, json });
    last = seq;
  }
  return { records, bytes: Buffer.byteLength(text) };
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
   * Opens the log for appending, empty (a log being opened has been replayed, or belongs to a new
   * run). A file that did not exist is made durable in its directory, so an fdatasync of the file
   * later is enough for its lines to survive a power loss.
   */
  static create(path: string): IntentLog {
    const existed = existsSync(path);
    const fd = openSync(path, 'w');
    try {
      if (!existed) syncDirectory(dirname(path));
    } catch (e) {
      closeSync(fd);
      throw e;
    }
    return new IntentLog(path, fd);
  }

  get bytes(): number {
    return this.size;
  }

  get isOpen(): boolean {
    return this.fd !== undefined;
  }

  /** Appends the lines (not yet durable: see `sync`) and returns their bytes. Throws on I/O errors. */
  write(lines: string): number {
    const fd = this.openFd();
    const buffer = Buffer.from(lines, 'utf8');
    let off = 0;
    while (off < buffer.length) off += writeSync(fd, buffer, off, buffer.length - off, this.size + off);
    this.size += buffer.length;
    return buffer.length;
  }

  /** fdatasync on the thread pool: every line written before the call is durable when `done` gets no error */
  sync(done: (error: Error | null) => void): void {
    fdatasync(this.openFd(), done);
  }

  /** write + fdatasync, synchronously */
  append(lines: string): number {
    const bytes = this.write(lines);
    fdatasyncSync(this.openFd());
    return bytes;
  }

  /**
   * Empties the log once DuckDB holds every record in it. Not synced: if a crash undoes it, the
   * replay finds records DuckDB already has and skips them; the next append's fdatasync persists it.
   */
  truncate(): void {
    ftruncateSync(this.openFd(), 0);
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
