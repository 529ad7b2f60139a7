#!/usr/bin/env node
// Writes src/tfjs-gradients.generated.ts: tfjs-core's own gradient definitions (dist/gradients/*.js, the
// ones its ESM register_all_gradients.js registers) and chained ops (dist/public/chained_ops/*.js),
// rewritten to take every op, kernel name and helper from the public API of the one
// @tensorflow/tfjs-core that core imports.
//
// Why: tfjs-core's CommonJS build (the one Node loads) registers no gradients, and its ESM build cannot be
// loaded by Node (extension-less imports). @tensorflow/tfjs registers them but brings layers, converter,
// data and webgl (over 200 MB installed). Taking the ops from the public API keeps one copy of tfjs-core
// (one engine, one Tensor class) in the process. Gradients that need tfjs-core internals the public API
// does not export (convolution and pooling backprops) are left out and listed in the file.
//
//   node scripts/vendor-gradients.mjs          # rewrite the file
//   node scripts/vendor-gradients.mjs --check  # exit 1 when the file differs from what it would write
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(pkgDir, 'package.json'));
export const OUTPUT = join(pkgDir, 'src', 'tfjs-gradients.generated.ts');

/** Namespaces of the public API that hold what tfjs-core's internal util modules export. */
const NAMESPACES = {
  util: 'util',
  'ops/axis_util': 'backend_util',
  'ops/broadcast_util': 'backend_util',
  'ops/conv_util': 'backend_util',
  'ops/selu_util': 'backend_util',
  'ops/slice_util': 'slice_util',
};

/** The generated source, from the installed tfjs-core. */
export function generate() {
  const tfDir = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
  const version = JSON.parse(readFileSync(join(tfDir, 'package.json'), 'utf8')).version;
  const tf = require('@tensorflow/tfjs-core');
  const dist = join(tfDir, 'dist');
  const registerAll = readFileSync(join(dist, 'register_all_gradients.js'), 'utf8');
  const configFile = new Map([...registerAll.matchAll(/^import \{ (\w+) \} from '\.\/(gradients\/\w+)';/gm)].map((m) => [m[1], m[2]]));
  const listed = registerAll.slice(registerAll.indexOf('const gradConfigs = ['));
  const order = [...listed.slice(0, listed.indexOf('];')).matchAll(/(\w+GradConfig)/g)].map((m) => m[1]);

  /** Where a name an internal module exports lives in the public API, or undefined. */
  const publicPath = (name, from) => {
    if (name === 'ENGINE') return 'tf.engine()';
    // One tfjs-core: its global Tensor class is the public one.
    if (name === 'getGlobalTensorClass') return '(() => tf.Tensor)';
    const ns = NAMESPACES[from];
    if (ns && tf[ns]?.[name] !== undefined) return `tf.${ns}.${name}`;
    if (tf[name] !== undefined) return `tf.${name}`;
    for (const space of ['backend_util', 'util', 'slice_util', 'image']) if (tf[space]?.[name] !== undefined) return `tf.${space}.${name}`;
    return undefined;
  };

  const modules = new Map(); // dist-relative id ('gradients/Abs_grad') → { code, exports, missing, deps }
  const load = (file) => {
    if (modules.has(file)) return modules.get(file);
    const src = readFileSync(join(dist, `${file}.js`), 'utf8').replace(/\/\/# sourceMappingURL=.*$/m, '');
    const body = src.replace(/^\/\*\*[\s\S]*?\*\/\n/, '');
    const lines = [];
    const missing = [];
    const deps = [];
    for (const m of body.matchAll(/^import (.+) from '(.+)';$/gm)) {
      const [, what, rel] = m;
      const from = posix.normalize(posix.join(posix.dirname(file), rel));
      if (rel.startsWith('./')) {
        const dep = from;
        deps.push(dep);
        lines.push(`  const ${what.replace(/ as /g, ': ')} = ${modVar(dep)};`);
      } else if (what.startsWith('* as ')) {
        const local = what.slice(5);
        const ns = NAMESPACES[from];
        const used = [...new Set([...body.matchAll(new RegExp(`\\b${local}\\.(\\w+)`, 'g'))].map((u) => u[1]))];
        const absent = used.filter((u) => !ns || tf[ns]?.[u] === undefined);
        if (absent.length) missing.push(...absent.map((u) => `${from}:${u}`));
        lines.push(`  const ${local} = tf.${ns ?? 'util'};`);
      } else {
        for (const spec of what.replace(/[{}]/g, '').split(',').map((s) => s.trim()).filter(Boolean)) {
          const [name, local = name] = spec.split(/\s+as\s+/);
          const where = publicPath(name, from);
          if (!where) missing.push(`${from}:${name}`);
          lines.push(`  const ${local} = ${where ?? 'undefined'};`);
        }
      }
    }
    const code = body.replace(/^import .+;\n/gm, '').replace(/^export (const|function|class) /gm, '$1 ').trim();
    const exports = [...body.matchAll(/^export (?:const|function|class) (\w+)/gm)].map((m) => m[1]);
    const mod = { file, lines, code, exports, missing, deps };
    modules.set(file, mod);
    for (const dep of deps) {
      const d = load(dep);
      mod.missing.push(...d.missing);
    }
    return mod;
  };

  const included = [];
  const excluded = [];
  for (const name of order) {
    const mod = load(configFile.get(name));
    if (mod.missing.length) excluded.push(`${name} (needs ${[...new Set(mod.missing)].join(', ')})`);
    else included.push(name);
  }
  const emitted = [];
  const seen = new Set();
  const emit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const mod = modules.get(file);
    for (const dep of mod.deps) emit(dep);
    emitted.push(`const ${modVar(file)} = (() => {\n${mod.lines.join('\n')}\n${indent(mod.code)}\n  return { ${mod.exports.join(', ')} };\n})();`);
  };
  for (const name of included) emit(configFile.get(name));
  const configs = [...new Set(included)];

  // Chained ops (x.add(y), x.reshape(s)): tfjs-core's CommonJS build does not install them either.
  const chainedAll = readFileSync(join(dist, 'public', 'chained_ops', 'register_all_chained_ops.js'), 'utf8');
  const chainedIds = [...chainedAll.matchAll(/^import '\.\/(\w+)';/gm)].map((m) => `public/chained_ops/${m[1]}`);
  const chained = [];
  for (const id of chainedIds) {
    const mod = load(id);
    if (mod.missing.length) excluded.push(`chained op ${id.split('/').at(-1)} (needs ${[...new Set(mod.missing)].join(', ')})`);
    else chained.push(`  {\n${mod.lines.map((l) => `  ${l}`).join('\n')}\n${indent(indent(mod.code))}\n  }`);
  }

  return `// @ts-nocheck
// GENERATED by scripts/vendor-gradients.mjs from @tensorflow/tfjs-core ${version} (dist/gradients/*.js and
// dist/public/chained_ops/*.js); do not
// edit. Run \`node packages/core/scripts/vendor-gradients.mjs\` after upgrading tfjs-core (a test fails
// until then). Every op and kernel name comes from the public API of the one tfjs-core in the process.
//
// Left out (they need tfjs-core internals the public API does not export; no model here uses them):
${excluded.map((e) => `//   ${e}`).join('\n')}
/**
 * @license
 * Copyright 2020 Google LLC. All Rights Reserved.
 * Licensed under the Apache License, Version 2.0 (the "License");
 * you may not use this file except in compliance with the License.
 * You may obtain a copy of the License at
 *
 * http://www.apache.org/licenses/LICENSE-2.0
 *
 * Unless required by applicable law or agreed to in writing, software
 * distributed under the License is distributed on an "AS IS" BASIS,
 * WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
 * See the License for the specific language governing permissions and
 * limitations under the License.
 * =============================================================================
 */
import * as tf from '@tensorflow/tfjs-core';

${emitted.join('\n\n')}

const configs = [
${configs.map((c) => `  ${modVar(configFile.get(c))}.${c},`).join('\n')}
];

/** Registers tfjs-core's gradients (all but the ones listed above) with the engine; returns their kernel names. */
export function registerTfjsGradients(): string[] {
  for (const config of configs) tf.registerGradient(config);
  return configs.map((c) => c.kernelName);
}

/** Installs tfjs-core's ${chained.length} chained ops on the Tensor class (\`x.add(y)\`, as @tensorflow/tfjs does). */
export function installChainedOps(): void {
${chained.join('\n')}
}
`;
}

function modVar(file) {
  return `m_${file.replace(/\W/g, '_')}`;
}

function indent(code) {
  return code.split('\n').map((l) => (l ? `  ${l}` : l)).join('\n');
}

if (process.argv[1] && process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = generate();
  if (process.argv.includes('--check')) {
    const now = readFileSync(OUTPUT, 'utf8');
    if (now !== text) {
      process.stderr.write(`${OUTPUT} is out of date with the installed tfjs-core: run node scripts/vendor-gradients.mjs\n`);
      process.exit(1);
    }
  } else {
    writeFileSync(OUTPUT, text);
    process.stderr.write(`wrote ${OUTPUT}\n`);
  }
}
