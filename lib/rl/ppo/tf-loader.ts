import { createRequire } from 'node:module';
import { ConfigError } from '../../core/errors.js';
import { locateProjectFile } from '../../core/project-files.js';

/**
 * Loads TensorFlow.js for training (only the trainer needs it: rollouts, evaluation and the
 * strategy module run the plain-JS policy). Backends:
 * - `wasm` (the default): @tensorflow/tfjs-backend-wasm, whose .wasm binaries are read from
 *   node_modules (no network). About 3x the cpu backend for these small nets.
 * - `tensorflow`: @tensorflow/tfjs-node when it is installed (it is never a dependency: its install
 *   downloads libtensorflow); `auto` picks it when it resolves, else wasm.
 * - `cpu`: the pure-JS backend (slow; for comparison).
 * Float math differs between backends, so golden numbers hold for one backend (wasm).
 */
export type TfBackendName = 'auto' | 'wasm' | 'cpu' | 'tensorflow';
export const TF_BACKENDS: readonly TfBackendName[] = ['auto', 'wasm', 'cpu', 'tensorflow'];

export type Tf = typeof import('@tensorflow/tfjs');

export interface LoadedTf {
  tf: Tf;
  backend: 'wasm' | 'cpu' | 'tensorflow';
}

let loading: Promise<LoadedTf> | undefined;
let loadedBackend: string | undefined;

/** Resolves a package from the project's node_modules, or undefined */
function resolvable(name: string): string | undefined {
  try {
    return createRequire(locateProjectFile('package.json')).resolve(name);
  } catch {
    return undefined;
  }
}

/** The native node backend when it is installed: `auto` prefers it */
export function tfNodeAvailable(): boolean {
  return resolvable('@tensorflow/tfjs-node') !== undefined;
}

/** The backend `auto` means here: tensorflow when tfjs-node resolves, else wasm */
export function resolveBackend(backend: TfBackendName): 'wasm' | 'cpu' | 'tensorflow' {
  return backend === 'auto' ? (tfNodeAvailable() ? 'tensorflow' : 'wasm') : backend;
}

/**
 * tfjs with the backend set and ready. One backend per process: asking for another one after the
 * first load is a ConfigError (tensors of two backends must not mix in one trainer).
 */
export async function loadTf(backend: TfBackendName = 'auto'): Promise<LoadedTf> {
  const wanted = resolveBackend(backend);
  if (loading !== undefined) {
    if (loadedBackend !== wanted) throw new ConfigError('tfjs backend', [`this process already trains on ${loadedBackend}; cannot switch to ${wanted}`]);
    return loading;
  }
  loadedBackend = wanted;
  loading = (async (): Promise<LoadedTf> => {
    let tf: Tf;
    if (wanted === 'tensorflow') {
      const path = resolvable('@tensorflow/tfjs-node');
      if (path === undefined) throw new ConfigError('tfjs backend', ['tensorflow needs @tensorflow/tfjs-node, which is not installed (use wasm)']);
      tf = (await import(path)) as Tf;
    } else {
      tf = await import('@tensorflow/tfjs');
      if (wanted === 'wasm') await import('@tensorflow/tfjs-backend-wasm');
    }
    const ok = await tf.setBackend(wanted);
    if (!ok) throw new ConfigError('tfjs backend', [`tfjs could not initialise the ${wanted} backend`]);
    await tf.ready();
    return { tf, backend: wanted };
  })();
  loading.catch(() => {
    loading = undefined;
    loadedBackend = undefined;
  });
  return loading;
}
