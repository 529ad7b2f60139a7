#!/usr/bin/env node
// The packed-tarball consumer test: packs every workspace package (`pnpm pack`, as publish would) and, in
// scratch projects outside the workspace (mktemp -d), installs the tarballs the way users do and checks
// what users run into. Needs the packages built (`pnpm build`) and the npm registry for third-party
// dependencies. Prints one line per check and ends with `consumer: N passed, N failed, N skipped`.
//
//   node tools/consumer/run.mjs            # every check; exit 1 when one fails
//   node tools/consumer/run.mjs --keep     # keep the scratch folder (its path is printed)
//   node tools/consumer/run.mjs --no-pnpm  # skip the pnpm 10 project
//   node tools/consumer/run.mjs --no-browser  # skip the Vite + headless Chromium project
//
// Projects: `full` (npm: all packages + typescript, vitest, attw), `laws` (npm: scaling-laws alone, no
// tfjs, + esbuild) and `pnpm` (pnpm 10: core + backend-native + cli, build scripts not approved, as pnpm
// leaves them by default). The npm and pnpm installs and the native training run see a PATH without a
// C++ compiler, make or python, so the native backend must come from the prebuilt binary.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compilerFreeBin, packAll, sh, treeBytes, writeProject } from './lib.mjs';
import { browserCheck, closedPipeCheck, optionalPlotsCheck, registryCheck, typeChecks } from './packaging-checks.mjs';
import { X64_LEVELS, prebuiltFile } from '../../packages/backend-native/scripts/prebuilt.mjs';
const args = process.argv.slice(2);
const keep = args.includes('--keep');
const withPnpm = !args.includes('--no-pnpm');

/** Tools the consumer installs, pinned (attw 0.18.5's engines take Node 20; 0.18.2 cannot read pnpm's tarballs). */
const TOOLS = {
  typescript: '5.9.3',
  vitest: '3.2.4',
  '@types/node': '20.19.43',
  '@arethetypeswrong/cli': '0.18.5',
};
const ESBUILD = '0.25.12';

const results = [];
function record(name, status, detail = '') {
  results.push({ name, status });
  const tag = { ok: 'ok  ', fail: 'FAIL', skip: 'skip' }[status];
  console.log(`${tag} ${name}${detail ? `: ${detail}` : ''}`);
}

/** Runs one check; a thrown error fails it with its message (and the command's output tail). */
async function check(name, fn) {
  const started = performance.now();
  try {
    const detail = await fn();
    if (typeof detail === 'object' && detail?.skip) return record(name, 'skip', detail.skip);
    record(name, 'ok', `${detail ? `${detail}; ` : ''}${((performance.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    record(name, 'fail', err instanceof Error ? err.message : String(err));
  }
}

const mb = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/** Trains the tiny preset for a few steps on the native backend with the compiler-free PATH. */
function trainNative(dir, env) {
  const runDir = path.join(dir, `run-native-${Date.now()}`);
  const r = sh(path.join(dir, 'node_modules', '.bin', 'efficientscale'), ['train', '--preset', 'tiny', '--steps', '5', '--backend', 'native', '--out', runDir, '--json'], { cwd: dir, env });
  const result = JSON.parse(r.stdout.trim().split('\n').at(-1));
  if (result.backend !== 'native') throw new Error(`expected the native backend, found ${result.backend}: ${r.stderr.trim().split('\n').find((l) => l.startsWith('backend:'))}`);
  if (!Number.isFinite(result.train_loss)) throw new Error(`expected a finite train loss, found ${result.train_loss}`);
  return `${result.steps} steps on ${result.backend}, train loss ${result.train_loss.toFixed(3)}, ${Math.round(result.tokens_per_s)} tokens/s`;
}

/** Throws unless the packed backend-native holds a prebuilt binary for every x86-64 level: without them a
 * user with no compiler gets the stock cpu backend, 28× slower, so the native checks fail, never skip. */
function requirePrebuilds(files) {
  const missing = X64_LEVELS.map((l) => prebuiltFile(l.level, 'linux', 'x64', 'glibc')).filter((f) => !files.includes(f));
  if (missing.length) throw new Error(`expected the backend-native tarball to hold a prebuilt binary per x86-64 level, found none at ${missing.join(', ')}`);
  return `${X64_LEVELS.length} binaries`;
}

async function main() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'es-consumer-'));
  console.log(`consumer: scratch folder ${scratch}`);
  const tarballDir = path.join(scratch, 'tarballs');
  fs.mkdirSync(tarballDir);
  const bin = compilerFreeBin(path.join(scratch, 'bin'));
  const noCompilerEnv = { PATH: bin };

  let tarballs = {};
  let packed = {};
  await check('pnpm pack every package', () => {
    ({ tarballs, files: packed } = packAll(tarballDir));
    return `${Object.keys(tarballs).length} tarballs`;
  });
  if (Object.keys(tarballs).length === 0) return finish(scratch);
  const names = Object.keys(tarballs);
  const nativeFiles = packed['@efficientscale/backend-native'] ?? [];
  await check('the backend-native tarball ships its prebuilt binaries', () => requirePrebuilds(nativeFiles));

  // --- full: every package with npm ---------------------------------------------------------------
  const full = writeProject(path.join(scratch, 'full'), names, tarballs, TOOLS);
  await check('npm install of every tarball (no compiler on PATH)', () => {
    sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: full, env: noCompilerEnv });
    return `node_modules ${mb(treeBytes(path.join(full, 'node_modules')))} with the consumer's tools`;
  });
  const fullBin = (name) => path.join(full, 'node_modules', '.bin', name);
  const entryPoints = (out) => `${out.split('\n').filter((l) => / ok @/.test(l)).length} entry points`;
  await check('ESM import of each package', () => entryPoints(sh('node', ['imports.mjs'], { cwd: full }).stdout));
  await check('CJS require of each package', () => entryPoints(sh('node', ['imports.cjs'], { cwd: full }).stdout));
  await registryCheck(check, full);
  await typeChecks(check, full, fullBin('tsc'));
  for (const name of names) {
    await check(`attw ${name}`, () => void sh(fullBin('attw'), [tarballs[name], '--format', 'ascii'], { cwd: full }));
  }
  await check('a Vitest test in the consumer imports the packages', () => {
    const r = sh(fullBin('vitest'), ['run', '--root', full, 'consumer.test.mjs'], { cwd: full });
    return (r.out.match(/Tests\s+(\d+ passed)/) ?? [])[1];
  });
  await check('core + moe + progressive + lowrank: forward passes', () => sh('node', ['forward.mjs'], { cwd: full }).stdout.trim().split('\n').length + ' passes');
  await check('efficientscale --help (the cli tarball)', () => {
    const r = sh(fullBin('efficientscale'), ['--help'], { cwd: full });
    for (const sub of ['train', 'fit', 'predict', 'grow', 'upcycle', 'lowrank']) if (!r.stdout.includes(sub)) throw new Error(`--help does not list ${sub}`);
  });
  await closedPipeCheck(check, full, fullBin('efficientscale'));
  await optionalPlotsCheck(check, full, fullBin('efficientscale'));
  await check('efficientscale predict loads no tfjs', () => {
    const csv = path.join(full, 'points.csv');
    const rows = [2e7, 6e7, 2e8, 6e8, 2e9].flatMap((N) => [5, 20, 80].map((r) => `${N},${N * r},${1.7 + 400 / N ** 0.34 + 410 / (N * r) ** 0.28}`));
    fs.writeFileSync(csv, `params,tokens,loss\n${rows.join('\n')}\n`);
    sh(fullBin('efficientscale'), ['fit', csv, '--out', 'law.json'], { cwd: full });
    const probe = path.join(full, 'loaded-modules.cjs');
    fs.writeFileSync(probe, "process.on('exit', () => { const t = Object.keys(require.cache).filter((p) => p.includes('@tensorflow')); if (t.length) process.stderr.write(`tfjs loaded: ${t[0]}\\n`); });\n");
    const r = sh(fullBin('efficientscale'), ['predict', '--law', 'law.json', '--params', '1e9', '--tokens', '2e10'], { cwd: full, env: { NODE_OPTIONS: `--require ${probe}` } });
    if (r.stderr.includes('tfjs loaded')) throw new Error(r.stderr.trim());
    return r.stdout.trim();
  });
  await check('npm: tiny preset trains on the native backend, no compiler on PATH', () => {
    requirePrebuilds(nativeFiles);
    return trainNative(full, noCompilerEnv);
  });

  // --- laws: scaling-laws alone, no tfjs --------------------------------------------------------------
  const laws = writeProject(path.join(scratch, 'laws'), ['@efficientscale/scaling-laws'], { '@efficientscale/scaling-laws': tarballs['@efficientscale/scaling-laws'] }, { esbuild: ESBUILD });
  await check('npm install of @efficientscale/scaling-laws alone', () => {
    sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: laws });
    if (fs.existsSync(path.join(laws, 'node_modules', '@tensorflow'))) throw new Error('expected no @tensorflow packages, found node_modules/@tensorflow');
    return 'no @tensorflow in node_modules';
  });
  await check('scaling-laws alone: ESM import and CJS require', () => {
    const only = ['@efficientscale/scaling-laws', '@efficientscale/scaling-laws/node'];
    sh('node', ['imports.mjs', ...only], { cwd: laws });
    sh('node', ['imports.cjs', ...only], { cwd: laws });
  });
  await check('esbuild bundles scaling-laws for the browser', () => {
    sh(path.join(laws, 'node_modules', '.bin', 'esbuild'), ['browser.mjs', '--bundle', '--platform=browser', '--format=esm', '--outfile=browser.bundle.js', '--log-level=warning'], { cwd: laws });
    return `${(fs.statSync(path.join(laws, 'browser.bundle.js')).size / 1024).toFixed(0)} KiB`;
  });

  // --- browser: core bundled by Vite, a forward pass in headless Chromium ---------------------------
  if (args.includes('--no-browser')) record('browser project', 'skip', '--no-browser');
  else await browserCheck(check, path.join(scratch, 'browser'), tarballs, writeProject, path.join(path.dirname(fileURLToPath(import.meta.url)), 'browser'));

  // --- pnpm 10: core + backend-native + cli -----------------------------------------------------------
  if (!withPnpm) record('pnpm 10 project', 'skip', '--no-pnpm');
  else {
    const pn = writeProject(path.join(scratch, 'pnpm'), ['@efficientscale/core', '@efficientscale/backend-native', '@efficientscale/cli'], tarballs);
    await check('pnpm install of core + backend-native + cli (no compiler on PATH)', () => {
      const version = sh('pnpm', ['--version']).stdout.trim();
      if (!version.startsWith('10.')) throw new Error(`expected pnpm 10, found ${version}`);
      sh('pnpm', ['install', '--ignore-workspace', '--reporter=append-only'], { cwd: pn, env: { ...noCompilerEnv, npm_config_store_dir: path.join(scratch, 'pnpm-store') } });
      return `pnpm ${version}`;
    });
    await check('pnpm: ESM import and CJS require of core and backend-native', () => {
      const only = ['@efficientscale/core', '@efficientscale/core/node', '@efficientscale/backend-native', '@efficientscale/cli'];
      sh('node', ['imports.mjs', ...only], { cwd: pn });
      sh('node', ['imports.cjs', ...only], { cwd: pn });
    });
    await check('pnpm: tiny preset trains on the native backend, no compiler on PATH', () => {
      requirePrebuilds(nativeFiles);
      return trainNative(pn, noCompilerEnv);
    });
  }
  finish(scratch);
}

function finish(scratch) {
  const count = (s) => results.filter((r) => r.status === s).length;
  if (keep) console.log(`consumer: kept ${scratch}`);
  else fs.rmSync(scratch, { recursive: true, force: true });
  console.log(`consumer: ${count('ok')} passed, ${count('fail')} failed, ${count('skip')} skipped`);
  process.exitCode = count('fail') > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
