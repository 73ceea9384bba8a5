/**
 * The fault-injection control API of the TWS simulator: HTTP on 127.0.0.1 only, every request
 * authenticated with `Authorization: Bearer <token>` (random per start unless given).
 *
 *   GET  /status                       FaultInjector.status()
 *   POST /faults/drop-all              {}
 *   POST /faults/refuse-connections    { "seconds": 5 }
 *   POST /faults/connectivity-lost     {}
 *   POST /faults/connectivity-restored { "dataLost": true }           (default false)
 *   POST /faults/farm-flap             { "farm": "usfarm", "state": "broken" }
 *   POST /faults/freeze-symbol         { "symbol": "SPY", "on": true } (default true)
 *   POST /faults/nightly-reset         { "downSeconds": 30 }
 *   POST /faults/reject-next-orders    { "count": 2, "reason": "..." }
 *   POST /faults/slow-responses        { "ms": 500 }
 *
 * Answers are JSON: a fault gives `{ fault, result, status }`; 401 without the token, 404 for an
 * unknown path, 405 for a wrong method, 400 `{ error, field, issues }` naming the bad field,
 * 409 when the simulator was not wired for the fault, 413 for bodies over 16 KB.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import { silentLogger, type Logger } from '../../lib/core/logger.js';
import { FARM_STATES, FARMS, FaultUnavailableError, type FaultInjector } from './faults.js';

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 16 * 1024;

const seconds = z.number().min(0).max(86_400);

/** Each fault: its body schema and what it does. */
const FAULTS = {
  'drop-all': { body: z.strictObject({}), run: (f: FaultInjector) => f.dropAll() },
  'refuse-connections': { body: z.strictObject({ seconds }), run: (f: FaultInjector, b: { seconds: number }) => f.refuseConnections(b.seconds) },
  'connectivity-lost': { body: z.strictObject({}), run: (f: FaultInjector) => f.connectivityLost() },
  'connectivity-restored': {
    body: z.strictObject({ dataLost: z.boolean().default(false) }),
    run: (f: FaultInjector, b: { dataLost: boolean }) => f.connectivityRestored(b),
  },
  'farm-flap': {
    body: z.strictObject({ farm: z.enum(FARMS), state: z.enum(FARM_STATES) }),
    run: (f: FaultInjector, b: { farm: (typeof FARMS)[number]; state: (typeof FARM_STATES)[number] }) => f.farmFlap(b.farm, b.state),
  },
  'freeze-symbol': {
    body: z.strictObject({ symbol: z.string().min(1), on: z.boolean().default(true) }),
    run: (f: FaultInjector, b: { symbol: string; on: boolean }) => f.freezeSymbol(b.symbol, b.on),
  },
  'nightly-reset': { body: z.strictObject({ downSeconds: seconds }), run: (f: FaultInjector, b: { downSeconds: number }) => f.nightlyReset(b) },
  'reject-next-orders': {
    body: z.strictObject({ count: z.int().min(0).max(1_000_000), reason: z.string().min(1).optional() }),
    run: (f: FaultInjector, b: { count: number; reason?: string | undefined }) => f.rejectNextOrders(b.count, b.reason),
  },
  'slow-responses': { body: z.strictObject({ ms: z.int().min(0).max(600_000) }), run: (f: FaultInjector, b: { ms: number }) => f.slowResponses(b.ms) },
} as const;

export type FaultName = keyof typeof FAULTS;
export const FAULT_NAMES = Object.keys(FAULTS) as FaultName[];

export interface ControlHttpOptions {
  faults: FaultInjector;
  /** 0 (the default) binds an ephemeral port */
  port?: number;
  /** Default: 32 random hex characters per start */
  token?: string;
  logger?: Logger;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: Record<string, unknown>,
  ) {
    super(String(body.error));
  }
}

export class ControlHttpServer {
  private server: Server | undefined;
  private readonly token: string;
  private readonly tokenHash: Buffer;
  private readonly log: Logger;
  private boundPort: number;

  constructor(private readonly options: ControlHttpOptions) {
    if (options.token !== undefined && options.token.length < 8) throw new ConfigError('gateway-sim control', ['the control token must have at least 8 characters']);
    this.token = options.token ?? randomBytes(16).toString('hex');
    this.tokenHash = sha256(this.token);
    this.boundPort = options.port ?? 0;
    this.log = (options.logger ?? silentLogger).child({ component: 'tws-sim-control' });
  }

  get port(): number {
    return this.boundPort;
  }

  get url(): string {
    return `http://${HOST}:${this.boundPort}`;
  }

  async start(): Promise<{ port: number; token: string; url: string }> {
    if (this.server) throw new ConfigError('gateway-sim control', ['start() called twice']);
    const server = createServer((req, res) => void this.handle(req, res));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.boundPort, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.log.error('control listener error', { error: e.message }));
    this.boundPort = (server.address() as AddressInfo).port;
    return { port: this.boundPort, token: this.token, url: this.url };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      if (!this.authorized(req.headers.authorization)) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="gateway-sim"');
        throw new HttpError(401, { error: 'missing or wrong bearer token' });
      }
      const path = new URL(req.url ?? '/', this.url).pathname;
      if (path === '/status') {
        requireMethod(req, res, 'GET');
        return reply(res, 200, this.options.faults.status());
      }
      const name = /^\/faults\/([a-z-]+)$/.exec(path)?.[1];
      if (!name || !Object.hasOwn(FAULTS, name)) throw new HttpError(404, { error: `no such endpoint: ${path}`, faults: FAULT_NAMES });
      requireMethod(req, res, 'POST');
      const body = await readJson(req);
      const result = await this.run(name as FaultName, body);
      this.log.info('fault injected', { fault: name });
      reply(res, 200, { fault: name, result, status: this.options.faults.status() });
    } catch (e) {
      if (e instanceof HttpError) return reply(res, e.status, e.body);
      if (e instanceof FaultUnavailableError) return reply(res, 409, { error: e.message });
      this.log.error('control request failed', { error: e instanceof Error ? e.message : String(e) });
      reply(res, 500, { error: e instanceof Error ? e.message : String(e) });
    }
  }

  private async run(name: FaultName, raw: unknown): Promise<unknown> {
    const fault = FAULTS[name];
    const parsed = fault.body.safeParse(raw);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => ({ field: issueField(i), message: i.message }));
      throw new HttpError(400, { error: `bad body for ${name}: ${issues.map((i) => `${i.field}: ${i.message}`).join('; ')}`, field: issues[0]!.field, issues });
    }
    return (fault.run as (f: FaultInjector, b: unknown) => unknown)(this.options.faults, parsed.data);
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Bearer (.+)$/.exec(header ?? '');
    return m !== null && timingSafeEqual(sha256(m[1]!), this.tokenHash);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The field an issue is about: its path, or the unknown keys. */
function issueField(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return issue.keys.join(',');
  return issue.path.length ? issue.path.map(String).join('.') : '(body)';
}

function requireMethod(req: IncomingMessage, res: ServerResponse, method: string): void {
  if (req.method === method) return;
  res.setHeader('Allow', method);
  throw new HttpError(405, { error: `use ${method}` });
}

/** The request's JSON body; an empty body is {}. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, { error: `body over ${MAX_BODY_BYTES} bytes` });
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new HttpError(400, { error: 'body is not valid JSON', field: '(body)' });
  }
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`${JSON.stringify(body)}\n`);
}
