import { Command } from 'commander';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../../lib/core/errors.js';
import { registerCalendarCommands } from './calendar.js';

/** Runs `monger calendar …args` and returns what it wrote to stdout. */
async function run(...args: string[]): Promise<string> {
  const program = new Command().exitOverride();
  registerCalendarCommands(program);
  let output = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  await program.parseAsync(['node', 'monger', 'calendar', ...args]);
  return output;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('monger calendar sessions', () => {
  it('prints CSV with the 2023-11-24 early close at 18:00Z', async () => {
    const csv = await run('sessions', '--exchange', 'XNYS', '--from', '2023-11-22', '--to', '2023-11-27', '--format', 'csv');
    expect(csv).toBe(
      [
        'session,open,close,break_start,break_end',
        '2023-11-22,2023-11-22T14:30:00Z,2023-11-22T21:00:00Z,,',
        '2023-11-24,2023-11-24T14:30:00Z,2023-11-24T18:00:00Z,,',
        '2023-11-27,2023-11-27T14:30:00Z,2023-11-27T21:00:00Z,,',
        '',
      ].join('\n'),
    );
  });

  it('prints breaks for CME equity and JSON objects', async () => {
    const json = JSON.parse(await run('sessions', '--exchange', 'CME', '--from', '2013-10-07', '--to', '2013-10-07', '--format', 'json'));
    expect(json).toEqual([
      {
        session: '2013-10-07',
        open: '2013-10-06T22:00:00Z',
        close: '2013-10-07T21:00:00Z',
        break_start: '2013-10-07T20:15:00Z',
        break_end: '2013-10-07T20:30:00Z',
        early_close: false,
      },
    ]);
  });

  it('defaults to a table', async () => {
    const table = await run('sessions', '--exchange', 'xnys', '--from', '2023-11-24', '--to', '2023-11-24');
    expect(table.split('\n')[0]).toMatch(/^session\s+open \(UTC\)\s+close \(UTC\)\s+note$/);
    expect(table).toContain('2023-11-24T18:00:00Z  early close');
  });

  it('throws ConfigError naming the flag for a bad exchange', async () => {
    const err = await run('sessions', '--exchange', 'NASDAQ', '--from', '2023-11-22', '--to', '2023-11-27').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual([expect.stringMatching(/^--exchange: expected one of XNYS, .* was 'NASDAQ'$/)]);
  });

  it('lists every bad flag at once', async () => {
    const err = await run('sessions', '--from', '2023-13-01', '--to', '2023-1-5', '--format', 'xml').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems.map((p) => p.split(/[ :]/)[0])).toEqual(['--exchange', '--from', '--to', '--format']);
  });

  it('rejects dates outside the years the calendar covers', async () => {
    const err = await run('sessions', '--exchange', 'XNYS', '--from', '1980-01-01', '--to', '1990-01-31').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).problems).toEqual(["--from: XNYS covers 1990..2099, was '1980-01-01'"]);
  });
});

describe('monger calendar is-open / next', () => {
  it('reports open, the session and minutes to close', async () => {
    const text = await run('is-open', '--exchange', 'XNYS', '--at', '2023-11-24T12:00:00-05:00');
    expect(text).toContain('status: open');
    expect(text).toContain('session: 2023-11-24 (open 2023-11-24T14:30:00Z, close 2023-11-24T18:00:00Z, early close)');
    expect(text).toContain('minutes_to_close: 60');
  });

  it('reports closed with the next open', async () => {
    const text = await run('is-open', '--exchange', 'CME_FX', '--at', '2024-01-01T12:00:00Z');
    expect(text).toContain('status: closed\nsession: none\nnext_open: 2024-01-01T23:00:00Z');
  });

  it('prints the next open and close', async () => {
    const text = await run('next', '--exchange', 'XNYS', '--at', '2023-11-24T18:00:00Z');
    expect(text).toContain('next_open: 2023-11-27T14:30:00Z\nnext_close: 2023-11-27T21:00:00Z');
  });

  it('defaults --at to now', async () => {
    expect(await run('next', '--exchange', 'CME_ENERGY_METALS')).toMatch(/next_open: \d{4}-/);
  });

  it('rejects an instant without a zone', async () => {
    const err = await run('next', '--exchange', 'XNYS', '--at', '2023-11-24T18:00:00').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(String((err as Error).message)).toContain('--at: expected an ISO instant with a zone');
  });
});
