import { existsSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { locateTsxEsmApi } from './project-files.js';

/**
 * Worker side of the task pool (see worker-pool.ts). The pool's bootstrap registers tsx in the
 * worker, imports this module and calls {@link startWorker}; importing it has no side effects, so
 * the pool can share {@link loadHandler} for in-thread runs (`workers: 0`).
 *
 * Protocol: `workerData` is a {@link WorkerInput}; the parent posts {@link TaskMessage}s, one at a
 * time per worker, and gets one {@link TaskReply} per task. A failed module import or factory is
 * reported once with `index: -1`.
 */

export interface WorkerInput {
  /** Absolute path of the handler module (.ts or .js) */
  module: string;
  /** Name of its exported factory: `(init) => handler` or `(init) => Promise<handler>` */
  factory: string;
  init: unknown;
}

export interface TaskMessage {
  index: number;
  task: unknown;
}

export interface ErrorDescription {
  message: string;
  stack: string;
  name?: string;
  /** `code` of the thrown error when it has a string one (WorkbenchError, Node system errors) */
  code?: string;
}

export type TaskReply =
  | { index: number; ok: true; result: unknown }
  | ({ index: number; ok: false } & ErrorDescription);

export type TaskHandler = (task: unknown) => unknown;

/** Message, stack, name and code of anything thrown, as plain strings (structured-clonable). */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof Error) {
    const description: ErrorDescription = { message: error.message, stack: error.stack ?? String(error), name: error.name };
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') description.code = code;
    return description;
  }
  const text = String(error);
  return { message: text, stack: `(a non-Error value was thrown: ${text})` };
}

/** Node error codes meaning "this module system cannot load that file", not "the module failed" */
const LOADER_CODES = new Set([
  'ERR_UNKNOWN_FILE_EXTENSION', // native ESM without tsx hooks asked for a .ts file
  'MODULE_NOT_FOUND', // CommonJS (tslab): import() was compiled to require(), which cannot take a file URL
  'ERR_REQUIRE_ESM',
  'ERR_UNSUPPORTED_ESM_URL_SCHEME',
]);

/**
 * `import()` that stays a real dynamic import when this file is compiled to CommonJS (tslab), where
 * TypeScript rewrites `import(x)` into `require(x)`.
 */
const nativeImport = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

/**
 * Imports a module by absolute path. First with the host's own `import()` (tsx, vitest, and the
 * worker, where tsx is registered). If the host cannot load that kind of file at all (tslab's
 * CommonJS, where `import()` became `require()`, or plain Node meeting TypeScript), through tsx:
 * `tsImport` from its ESM API imported natively by URL (the CommonJS build of `tsx/esm/api` 4.23
 * registers its hooks from a wrong relative path), else `tsx/cjs/api`'s `require` (for hosts that
 * run code in a vm context without dynamic-import support).
 */
export async function importModule(path: string): Promise<Record<string, unknown>> {
  const url = pathToFileURL(path).href;
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (typeof code !== 'string' || !LOADER_CODES.has(code) || !existsSync(path)) throw error;
    const failures = [`import(): ${describeError(error).message}`];
    try {
      const api = (await nativeImport(locateTsxEsmApi())) as { tsImport: (specifier: string, parentURL: string) => Promise<unknown> };
      return (await api.tsImport(url, url)) as Record<string, unknown>;
    } catch (tsImportError) {
      failures.push(`tsx tsImport(): ${describeError(tsImportError).message}`);
    }
    try {
      // a variable specifier keeps type checkers with older resolution away from the subpath export
      const cjsApi: string = 'tsx/cjs/api';
      const api = (await import(cjsApi)) as { require: (id: string, fromFile: string) => unknown };
      return api.require(path, path) as Record<string, unknown>;
    } catch (requireError) {
      failures.push(`tsx require(): ${describeError(requireError).message}`);
    }
    throw new Error(`cannot import ${path}:\n${failures.map((f) => `  - ${f}`).join('\n')}`, { cause: error });
  }
}

/** Imports `input.module`, calls its factory with `input.init` and returns the handler it makes. */
export async function loadHandler(input: WorkerInput): Promise<TaskHandler> {
  const loaded = await importModule(input.module);
  const factory = loaded[input.factory];
  if (typeof factory !== 'function') {
    const names = Object.keys(loaded).join(', ') || 'none';
    throw new Error(`${input.module} has no exported function '${input.factory}' (exports: ${names})`);
  }
  const handler: unknown = await (factory as (init: unknown) => unknown)(input.init);
  if (typeof handler !== 'function') {
    throw new Error(`${input.factory}() in ${input.module} returned ${typeof handler}, not a task handler function`);
  }
  return handler as TaskHandler;
}

function isWorkerInput(value: unknown): value is WorkerInput {
  const v = value as Partial<WorkerInput> | null;
  return typeof v === 'object' && v !== null && typeof v.module === 'string' && typeof v.factory === 'string';
}

/** Entry point inside a pool worker: load the handler, then serve tasks until terminated. */
export function startWorker(): void {
  const port = parentPort;
  if (port === null) throw new Error('startWorker() must run in a worker thread');
  if (!isWorkerInput(workerData)) throw new Error('worker data is not { module, factory, init }');
  const handlerReady = loadHandler(workerData);
  let loadFailed = false;
  handlerReady.catch((error: unknown) => {
    loadFailed = true;
    port.postMessage({ index: -1, ok: false, ...describeError(error) } satisfies TaskReply);
  });

  const serve = async ({ index, task }: TaskMessage): Promise<void> => {
    let handler: TaskHandler;
    try {
      handler = await handlerReady;
    } catch {
      return; // reported once above
    }
    let reply: TaskReply;
    try {
      reply = { index, ok: true, result: await handler(task) };
    } catch (error) {
      reply = { index, ok: false, ...describeError(error) };
    }
    try {
      port.postMessage(reply);
    } catch (error) {
      // DataCloneError: the result holds a function, a class with private state, a stream, ...
      const { message, stack } = describeError(error);
      port.postMessage({ index, ok: false, message: `result is not structured-clonable: ${message}`, stack } satisfies TaskReply);
    }
  };
  port.on('message', (message: TaskMessage) => {
    if (!loadFailed) void serve(message);
  });
}
