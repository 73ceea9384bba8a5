// The `monger` kernel: tslab 1.0.22 (pinned) with one fix, started in the project root.
//
// tslab drives TypeScript's watch compiler through a single timer slot and throws "Unexpected
// pending rebuildTimer" when TypeScript schedules a second timer while one is pending. One change
// under node_modules/@types (any `npm install` that touches it while a kernel runs) does exactly
// that: TypeScript's type-roots watcher schedules a program update and a failed-lookup
// invalidation in the same callback. The throw escapes as an uncaught exception and the slot stays
// taken, so every later cell fails until the kernel restarts. The fix runs the pending callback
// first (what its timer would have done) and frees the slot before a callback runs, so a timer the
// callback schedules is kept. tslab is unmaintained (last release 2024), so the fix is applied
// here, to tslab's own file as Node loads it; test/notebooks/kernel.test.ts reproduces the bug.
//
// Usage (kernel.json): node scripts/notebooks/kernel.cjs kernel --config-path {connection_file}
'use strict';
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const ORIGINAL = `        if (rebuildTimer) {
            throw new Error("Unexpected pending rebuildTimer");
        }
        rebuildTimer = {
            callback: () => {
                callback();
                rebuildTimer = null;
            },
        };
        return rebuildTimer;`;

const FIXED = `        while (rebuildTimer) {
            const pending = rebuildTimer;
            rebuildTimer = null;
            pending.callback();
        }
        const timer = {
            callback: () => {
                if (rebuildTimer === timer) rebuildTimer = null;
                callback();
            },
        };
        rebuildTimer = timer;
        return rebuildTimer;`;

/** tslab's converter source with the timer fix; throws when tslab changed and the fix no longer applies. */
function fixedConverterSource(source) {
  if (!source.includes(ORIGINAL)) throw new Error('tslab/dist/converter.js is not the 1.0.22 this kernel fixes: update scripts/notebooks/kernel.cjs');
  return source.replace(ORIGINAL, FIXED);
}

function start() {
  const root = process.cwd();
  const converter = path.join(root, 'node_modules', 'tslab', 'dist', 'converter.js');
  const load = Module._extensions['.js'];
  Module._extensions['.js'] = function (module, filename) {
    if (filename !== converter) return load(module, filename);
    module._compile(fixedConverterSource(fs.readFileSync(filename, 'utf8')), filename);
  };
  require(path.join(root, 'node_modules', 'tslab', 'dist', 'main.js')).main();
}

module.exports = { fixedConverterSource, ORIGINAL, FIXED };
if (require.main === module) start();
