/**
 * The running runner's control API (issue 10): add, remove and list the symbols of its universe;
 * see, set and lift its halts (supervisor-operator.ts holds the rules).
 * HTTP on a loopback address only (the API trades), every request authenticated with
 * `Authorization: Bearer <token>` compared in constant time (sha-256 of both sides, so neither
 * the content nor the length leaks through timing). JSON in and out:
 *
 * - `GET /symbols` → `{ mode, lines: { budget, used, peak }, waiting, symbols: [{ symbol, state,
 *   origin, streams, position, workingOrders, lastSignalAt, lastValue, activations, delivered }] }`
 * - `POST /symbols` `{ symbol, wait? }` → 200 `{ symbol: entry }` once active or waiting for a line
 *   (`wait: false`: once accepted); refused: 409 duplicate, 422 unknown/invalid symbol.
 * - `DELETE /symbols/SYM[?immediate=1][?flatten=market|none]` → 200 `{ symbol: entry }` (graceful:
 *   `retiring` until flat with no working orders; with flatten `market` (universe.removal.flatten by
 *   default) its entries stop and its position is closed at market first; immediate: cancelled and
 *   unsubscribed at once, refused with a position); refused: 400 bad flatten, 404 not a member, 409
 *   position open. Without a universe in the run the symbol endpoints answer 409 NO_UNIVERSE.
 * - `GET /status` → `{ runId, mode, strategy, connection, now, halted, halts: [{ source, instrument?,
 *   since, detail, restored?, lift }], positions, workingOrders, sessions, account }`
 * - `POST /halt` `{ reason, instrument? }` → 200 `{ halted, already, halts }`: an `operator` halt.
 * - `POST /resume` `{ source, instrument?, confirm? }` → 200 `{ lifted, rebased?, halted, halts }`;
 *   refused: 400 bad request / unknown source, 404 unknown instrument, 409 not in force, confirm
 *   required (`loss:cumulative`, `drawdown`), or a halt that lifts itself (session, health, stale data).
 *
 * A refusal changes nothing (UniverseManager and OperatorControl guarantee it) and says why:
 * `{ error: { code, message } }`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../lib/core/logger.js';
import { REMOVAL_FLATTEN, UniverseError, type RemovalFlatten, type UniverseEntryView } from '../../lib/universe/universe-types.js';
import type { InstrumentStatus } from './market-data-types.js';
import { HaltRequestError, type OperatorControl } from './supervisor-operator.js';

export interface ControlTarget {
  add(symbol: string, wait: boolean): Promise<UniverseEntryView>;
  /** flatten: this removal's policy (undefined: the configured one) */
  remove(symbol: string, immediate: boolean, flatten?: RemovalFlatten): UniverseEntryView;
  list(): ControlList;
}

export interface ControlSymbol extends UniverseEntryView {
  streams: InstrumentStatus['streams'] | undefined;
  position: number;
  workingOrders: number;
}

export interface ControlList {
  mode: string;
  lines: { budget: number; used: number; peak: number };
  waiting: { symbol: string; reason: string }[];
  symbols: ControlSymbol[];
}

export interface ControlApiOptions {
  host: string;
  port: number;
  token: string;
  /** The signal-driven universe; undefined: the symbol endpoints answer 409 NO_UNIVERSE */
  target: ControlTarget | undefined;
  /** Status and halts; undefined: those endpoints answer 404 */
  operator?: Pick<OperatorControl, 'status' | 'halt' | 'resume'>;
  /**
   * Makes what the operator's request journaled durable (the runner: journal.flush) before it is
   * answered: an acknowledged halt survives a crash right after the answer
   */
  durable?: () => Promise<void>;
  logger: Logger;
}

const STATUS: Record<string, number> = { UNIVERSE_DUPLICATE: 409, UNIVERSE_INVALID_SYMBOL: 422, UNIVERSE_NOT_MEMBER: 404, UNIVERSE_POSITION_OPEN: 409 };
const MAX_BODY = 64 * 1024;

export class ControlApi {
  private server: Server | undefined;
  private readonly tokenHash: Buffer;

  constructor(private readonly o: ControlApiOptions) {
    this.tokenHash = sha256(o.token);
  }

  /** Listens; resolves with the bound address (port 0: a free one) */
  async start(): Promise<{ host: string; port: number }> {
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.o.port, this.o.host, () => resolve());
    });
    const a = server.address() as AddressInfo;
    this.o.logger.info('control API listening', { host: this.o.host, port: a.port });
    return { host: this.o.host, port: a.port };
  }

  async stop(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s === undefined) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  private authorized(req: IncomingMessage): boolean {
    const h = req.headers.authorization ?? '';
    const m = /^Bearer (.+)$/.exec(h);
    return m !== null && timingSafeEqual(sha256(m[1]!), this.tokenHash);
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req)) return send(res, 401, { error: { code: 'UNAUTHORIZED', message: 'missing or wrong bearer token' } });
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '');
      if (path === '/status' || path === '/halt' || path === '/resume') return await this.operator(req, res, path);
      const target = this.o.target;
      if (target === undefined && (path === '/symbols' || path.startsWith('/symbols/'))) {
        return send(res, 409, { error: { code: 'NO_UNIVERSE', message: 'no dynamic universe in this run: its symbols are fixed by universe.symbols (set universe.mode dynamic or mixed, or signals, to add and remove symbols)' } });
      }
      if (path === '/symbols' && req.method === 'GET') return send(res, 200, target!.list());
      if (path === '/symbols' && req.method === 'POST') {
        const body = await readJson(req);
        const symbol = typeof body?.symbol === 'string' ? body.symbol : undefined;
        if (symbol === undefined) return send(res, 400, { error: { code: 'BAD_REQUEST', message: 'expected a JSON body { "symbol": "AAPL", "wait": true }' } });
        const entry = await target!.add(symbol, body?.wait !== false);
        this.o.logger.info('control: symbol added', { symbol, state: entry.state });
        return send(res, 200, { symbol: entry });
      }
      const m = /^\/symbols\/([^/]+)$/.exec(path);
      if (m && req.method === 'DELETE') {
        let symbol: string;
        try {
          symbol = decodeURIComponent(m[1]!);
        } catch {
          return send(res, 400, { error: { code: 'BAD_REQUEST', message: `malformed symbol in the path: '${m[1]}'` } });
        }
        const immediate = ['1', 'true'].includes(url.searchParams.get('immediate') ?? '');
        const flatten = url.searchParams.get('flatten') ?? undefined;
        if (flatten !== undefined && !(REMOVAL_FLATTEN as readonly string[]).includes(flatten)) {
          return send(res, 400, { error: { code: 'BAD_REQUEST', message: `flatten: expected one of ${REMOVAL_FLATTEN.join(', ')}, got '${flatten}'` } });
        }
        const entry = target!.remove(symbol, immediate, flatten as RemovalFlatten | undefined);
        this.o.logger.info('control: symbol removed', { symbol, immediate, ...(flatten !== undefined ? { flatten } : {}), state: entry.state });
        return send(res, 200, { symbol: entry });
      }
      return send(res, 404, { error: { code: 'NOT_FOUND', message: `no ${req.method} ${path}; see GET /status, POST /halt, POST /resume, GET /symbols, POST /symbols, DELETE /symbols/SYM` } });
    } catch (e) {
      if (e instanceof UniverseError) return send(res, STATUS[e.code] ?? 409, { error: { code: e.code, message: e.message } });
      if (e instanceof HaltRequestError) return send(res, e.httpStatus, { error: { code: e.code, message: e.message } });
      if (e instanceof SyntaxError) return send(res, 400, { error: { code: 'BAD_REQUEST', message: `invalid JSON: ${e.message}` } });
      this.o.logger.error('control request failed', { error: e instanceof Error ? e.message : String(e) });
      return send(res, 500, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
    }
  }

  /** GET /status, POST /halt, POST /resume */
  private async operator(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> {
    const op = this.o.operator;
    const method = path === '/status' ? 'GET' : 'POST';
    if (op === undefined || req.method !== method) return send(res, 404, { error: { code: 'NOT_FOUND', message: op === undefined ? `no ${path} in this process` : `no ${req.method} ${path}; see ${method} ${path}` } });
    if (path === '/status') return send(res, 200, op.status());
    const body = (await readJson(req)) ?? {};
    if (path === '/halt') {
      const a = op.halt(body);
      await this.o.durable?.();
      if (!a.already) this.o.logger.warn('control: operator halt', { instrument: a.halted.instrument, reason: a.halted.detail });
      return send(res, 200, a);
    }
    const a = op.resume(body);
    await this.o.durable?.();
    this.o.logger.warn('control: halt lifted', { source: a.lifted.source, instrument: a.lifted.instrument, detail: a.lifted.detail, ...(a.rebased !== undefined ? { rebased: a.rebased } : {}) });
    return send(res, 200, a);
  }
}

function sha256(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new SyntaxError('body too large');
    chunks.push(c as Buffer);
  }
  if (size === 0) return undefined;
  const v = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
