/**
 * A client of the runner's control API (control-api.ts): `monger symbol|status|halt|resume` and the
 * tests use it.
 * Every answer is `{ status, body }`; a refusal (4xx) is an answer, not an exception. Only a runner
 * that cannot be reached throws.
 */
import { WorkbenchError } from '../../lib/core/errors.js';

export class ControlUnreachableError extends WorkbenchError {
  readonly code = 'CONTROL_UNREACHABLE';
}

export interface ControlAnswer<T = unknown> {
  status: number;
  body: T;
}

export class ControlClient {
  private readonly base: string;

  constructor(
    host: string,
    port: number,
    private readonly token: string,
  ) {
    this.base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
  }

  list(): Promise<ControlAnswer> {
    return this.call('GET', '/symbols');
  }

  add(symbol: string, wait = true): Promise<ControlAnswer> {
    return this.call('POST', '/symbols', { symbol, wait });
  }

  /** flatten: overrides the runner's universe.removal.flatten for this removal */
  remove(symbol: string, immediate = false, flatten?: 'market' | 'none'): Promise<ControlAnswer> {
    const q = new URLSearchParams();
    if (immediate) q.set('immediate', '1');
    if (flatten !== undefined) q.set('flatten', flatten);
    const query = q.toString();
    return this.call('DELETE', `/symbols/${encodeURIComponent(symbol)}${query ? `?${query}` : ''}`);
  }

  /** GET /status: run, halts in force, positions, working orders, sessions, account */
  status(): Promise<ControlAnswer> {
    return this.call('GET', '/status');
  }

  /** An operator halt of the whole book, or of one instrument */
  halt(reason: string, instrument?: string): Promise<ControlAnswer> {
    return this.call('POST', '/halt', { reason, ...(instrument !== undefined ? { instrument } : {}) });
  }

  /** Lifts `source`'s halt (loss:cumulative and drawdown need confirm) */
  resume(source: string, options: { instrument?: string; confirm?: boolean } = {}): Promise<ControlAnswer> {
    return this.call('POST', '/resume', { source, ...(options.instrument !== undefined ? { instrument: options.instrument } : {}), ...(options.confirm ? { confirm: true } : {}) });
  }

  private async call(method: string, path: string, body?: unknown): Promise<ControlAnswer> {
    let res: Response;
    try {
      res = await fetch(this.base + path, {
        method,
        headers: { authorization: `Bearer ${this.token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (e) {
      throw new ControlUnreachableError(`no runner control API at ${this.base} (${e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)}): is the runner running with control.enabled?`);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, body: parsed };
  }
}
