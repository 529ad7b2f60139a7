#!/usr/bin/env node
// Install size and CLI start-up as a user meets them: packs the workspace (run `pnpm build` first),
// installs the tarballs with npm into scratch projects outside the workspace, and prints a Markdown
// section for BENCHMARKS.md. Run alone: `node tools/bench/install.mjs` (needs the npm registry).
//
// Install sizes: npm i of the cli, of core + backend-native (targets 70 MB and 80 MB), of core, of
// scaling-laws, and of the cli with the optional vega packages; with the package count and the largest.
// Start-up, "before" measured in the same run so that a busy machine distorts the ratio least: `efficientscale predict` with the modules every command loaded before the scaling-law
//   commands were split off preloaded (core, moe, progressive, lowrank, vega, vega-lite), against the
//   same command as it now runs, and against scaling-laws alone (the floor).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packAll, sh, treeBytes, writeProject } from '../consumer/lib.mjs';

/** Packages in a node_modules tree (each folder holding a package.json, nested node_modules included). */
function packageCount(modules) {
  let count = 0;
  for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(modules, entry.name);
    if (entry.name.startsWith('@')) count += packageCount(dir);
    else if (fs.existsSync(path.join(dir, 'package.json'))) {
      count += 1;
      if (fs.existsSync(path.join(dir, 'node_modules'))) count += packageCount(path.join(dir, 'node_modules'));
    }
  }
  return count;
}

/** The n largest top-level packages of a node_modules tree: [name, bytes]. */
function largestPackages(modules, n) {
  const sizes = [];
  for (const entry of fs.readdirSync(modules, { withFileTypes: true })) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const names = entry.name.startsWith('@') ? fs.readdirSync(path.join(modules, entry.name)).map((s) => `${entry.name}/${s}`) : [entry.name];
    for (const name of names) sizes.push([name, treeBytes(path.join(modules, name))]);
  }
  return sizes.sort((a, b) => b[1] - a[1]).slice(0, n);
}

const RUNS = 10;
/** 339 MB, 4.2 MB, 180 kB. */
const size = (bytes) => (bytes >= 1e7 ? `${(bytes / 1e6).toFixed(0)} MB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bench-install-'));
try {
  const tarballDir = path.join(scratch, 'tarballs');
  fs.mkdirSync(tarballDir);
  const { tarballs } = packAll(tarballDir);
  /** node_modules bytes and package count of an npm install of the given tarballs (plus registry packages). */
  function installed(name, packages, extra = {}) {
    const dir = writeProject(path.join(scratch, name), packages, tarballs, {}, extra);
    sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: { EFFICIENTSCALE_NATIVE_SKIP_BUILD: '1' } });
    const modules = path.join(dir, 'node_modules');
    return { dir, bytes: treeBytes(modules), packages: packageCount(modules), largest: largestPackages(modules, 4) };
  }
  const vega = { vega: '^6.2.0', 'vega-lite': '^6.4.1' };
  const rows = [];
  const sizes = {};
  for (const [label, packages, target, extra] of [
    ['npm i @efficientscale/cli', ['@efficientscale/cli'], 70e6],
    ['npm i @efficientscale/core @efficientscale/backend-native', ['@efficientscale/core', '@efficientscale/backend-native'], 80e6],
    ['npm i @efficientscale/core', ['@efficientscale/core']],
    ['npm i @efficientscale/scaling-laws', ['@efficientscale/scaling-laws']],
    ['npm i @efficientscale/cli vega vega-lite (plots drawn)', ['@efficientscale/cli'], undefined, vega],
  ]) {
    const got = installed(label.replace(/\W+/g, '-'), packages, extra);
    sizes[label] = got;
    const verdict = target === undefined ? '' : `≤ ${size(target)}: ${got.bytes <= target ? 'met' : `missed by ${size(got.bytes - target)}`}`;
    rows.push(`| \`${label}\` | ${size(got.bytes)} | ${got.packages} | ${verdict} | ${got.largest.map(([n, b]) => `${n} ${size(b)}`).join(', ')} |`);
  }

  // Start-up: median wall time of RUNS runs (after one warm-up) of each command line, interleaved.
  const cliDir = sizes['npm i @efficientscale/cli vega vega-lite (plots drawn)'].dir;
  const bin = path.join(cliDir, 'node_modules', '@efficientscale', 'cli', 'dist', 'bin.js');
  const csv = path.join(cliDir, 'points.csv');
  const points = [2e7, 6e7, 2e8, 6e8, 2e9].flatMap((N) => [5, 20, 80].map((r) => `${N},${N * r},${1.7 + 400 / N ** 0.34 + 410 / (N * r) ** 0.28}`));
  fs.writeFileSync(csv, `params,tokens,loss\n${points.join('\n')}\n`);
  sh(process.execPath, [bin, 'fit', csv, '--out', 'law.json'], { cwd: cliDir });
  const preload = path.join(cliDir, 'preload-before.mjs');
  fs.writeFileSync(preload, ['core', 'moe', 'progressive', 'lowrank'].map((p) => `import '@efficientscale/${p}';`).concat(["import 'vega';", "import 'vega-lite';"]).join('\n') + '\n');
  const floor = path.join(cliDir, 'predict-floor.mjs');
  fs.writeFileSync(floor, "import { readFileSync } from 'node:fs';\nimport { parseLawFile, predictLoss } from '@efficientscale/scaling-laws';\nconst law = parseLawFile(readFileSync('law.json', 'utf8'), 'law.json');\nconsole.log(predictLoss(law, 1e9, 2e10).value);\n");
  const predictArgs = ['predict', '--law', 'law.json', '--params', '1e9', '--tokens', '2e10'];
  const lines = {
    before: [process.execPath, ['--import', preload, bin, ...predictArgs]],
    after: [process.execPath, [bin, ...predictArgs]],
    floor: [process.execPath, [floor]],
  };
  const times = { before: [], after: [], floor: [] };
  for (let i = 0; i <= RUNS; i++) {
    for (const [key, [cmd, args]] of Object.entries(lines)) {
      const t = performance.now();
      const r = spawnSync(cmd, args, { cwd: cliDir, encoding: 'utf8' });
      const ms = performance.now() - t;
      if (r.status !== 0) throw new Error(`${key}: ${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
      if (i > 0) times[key].push(ms);
    }
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const [b, a, f] = [median(times.before), median(times.after), median(times.floor)];

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(`## Install size and CLI start-up

\`node tools/bench/install.mjs\` (via \`pnpm bench install\`), ${new Date().toISOString().slice(0, 10)}: the packed tarballs installed
with npm ${sh('npm', ['--version']).stdout.trim()} into scratch projects outside the workspace, Node ${process.version}, ${os.cpus().length} × ${cpu}
(shared machine: compare the ratios, measured in the same run).

node_modules of a consumer install from the packed tarballs (the native binaries are the tarball's prebuilt
ones; vega and vega-lite are optional peers, installed only where plots are wanted):

| install | node_modules | packages | target | largest packages |
| --- | ---: | ---: | --- | --- |
${rows.join('\n')}

\`efficientscale predict --law law.json --params 1e9 --tokens 2e10\`, median of ${RUNS} runs each (interleaved,
after one warm-up). Before: the same command with what every command loaded before the scaling-law
commands were split off (core and tfjs, moe, progressive, lowrank, vega, vega-lite) preloaded by \`--import\`.

| command | median wall time | / after |
| --- | ---: | ---: |
| predict, before | ${(b / 1000).toFixed(2)} s | ${(b / a).toFixed(1)} |
| predict, after | ${(a / 1000).toFixed(2)} s | 1.0 |
| scaling-laws alone (\`node\` script: parseLawFile + predictLoss) | ${(f / 1000).toFixed(2)} s | ${(f / a).toFixed(2)} |
`);
} finally {
  fs.rmSync(scratch, { recursive: true, force: true });
}
