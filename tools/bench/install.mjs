#!/usr/bin/env node
// Install size and CLI start-up as a user meets them: packs the workspace (run `pnpm build` first),
// installs the tarballs with npm into scratch projects outside the workspace, and prints a Markdown
// section for BENCHMARKS.md. Run alone: `node tools/bench/install.mjs` (needs the npm registry).
//
// "Before" is measured in the same run, so that a busy machine distorts the ratio least:
// - install size: the same install plus @tensorflow/tfjs 4.22.0, which core depended on (to register
//   gradients) before it vendored tfjs-core's gradient definitions;
// - start-up: `efficientscale predict` with the modules every command loaded before the scaling-law
//   commands were split off preloaded (core, moe, progressive, lowrank, vega, vega-lite), against the
//   same command as it now runs, and against scaling-laws alone (the floor).
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { packAll, sh, treeBytes, writeProject } from '../consumer/lib.mjs';

const RUNS = 10;
/** 339 MB, 4.2 MB, 180 kB. */
const size = (bytes) => (bytes >= 1e7 ? `${(bytes / 1e6).toFixed(0)} MB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'es-bench-install-'));
try {
  const tarballDir = path.join(scratch, 'tarballs');
  fs.mkdirSync(tarballDir);
  const { tarballs } = packAll(tarballDir);
  const tfjs = { '@tensorflow/tfjs': '4.22.0' };

  /** node_modules bytes of an npm install of the given tarballs (plus registry packages). */
  function installed(name, packages, extra = {}) {
    const dir = writeProject(path.join(scratch, name), packages, tarballs, {}, extra);
    sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: dir, env: { EFFICIENTSCALE_NATIVE_SKIP_BUILD: '1' } });
    return { dir, bytes: treeBytes(path.join(dir, 'node_modules')) };
  }
  const rows = [];
  const sizes = {};
  for (const [label, packages] of [
    ['@efficientscale/core', ['@efficientscale/core']],
    ['@efficientscale/cli (everything)', ['@efficientscale/cli']],
    ['@efficientscale/scaling-laws', ['@efficientscale/scaling-laws']],
  ]) {
    const key = label.replace(/\W+/g, '-');
    const after = installed(`${key}-after`, packages);
    sizes[label] = after;
    if (label === '@efficientscale/scaling-laws') {
      rows.push(`| ${label} | (never needed tfjs) | ${size(after.bytes)} | |`);
      continue;
    }
    const before = installed(`${key}-before`, packages, tfjs);
    rows.push(`| ${label} | ${size(before.bytes)} | ${size(after.bytes)} | ${(after.bytes / before.bytes).toFixed(2)} |`);
  }

  // Start-up: median wall time of RUNS runs (after one warm-up) of each command line, interleaved.
  const cliDir = sizes['@efficientscale/cli (everything)'].dir;
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

node_modules of a consumer install (before: the same install plus \`@tensorflow/tfjs\` 4.22.0, which core
depended on to register gradients until it vendored tfjs-core's own gradient definitions):

| install | before | after | after / before |
| --- | ---: | ---: | ---: |
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
