#!/usr/bin/env node
// The install script: when a prebuilt binary (prebuilds/, shipped in the npm tarball) loads on this machine,
// there is nothing to build. Otherwise it builds the native addon (build/Release/efficientscale_native.node)
// with node-gyp, offline. Never fails: when the compiler, the Node headers or the BLAS are missing, it
// writes the reason to build/UNAVAILABLE.txt and exits 0, so that the install succeeds and the stock
// backend is used. Skips the build when the addon is newer than every source (pass --force to rebuild).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { blasConfig } from './blas-config.mjs';
import { SOURCE_BUILD_HINT, prebuiltCandidates } from './prebuilt.mjs';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const buildDir = join(pkgDir, 'build');
const addonPath = join(buildDir, 'Release', 'efficientscale_native.node');
const unavailablePath = join(buildDir, 'UNAVAILABLE.txt');
const force = process.argv.includes('--force');
const quiet = process.argv.includes('--quiet');
const log = (msg) => { if (!quiet) process.stderr.write(`backend-native: ${msg}\n`); };

function newestSource() {
  const files = [join(pkgDir, 'binding.gyp'), join(pkgDir, 'scripts', 'blas-config.mjs')];
  const nativeDir = join(pkgDir, 'src', 'native');
  for (const f of readdirSync(nativeDir)) files.push(join(nativeDir, f));
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function unavailable(reason) {
  mkdirSync(buildDir, { recursive: true });
  writeFileSync(unavailablePath, reason.trim() + '\n');
  log(`addon not built (${reason.trim().split('\n')[0]}); the 'native' backend is unavailable and 'auto' will use the stock cpu backend`);
  process.exit(0);
}

function which(cmd) {
  const r = spawnSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

// A prebuilt binary that loads and passes its self-test makes a compiler unnecessary.
if (!force) {
  for (const prebuilt of prebuiltCandidates(pkgDir).paths) {
    try {
      if (createRequire(import.meta.url)(prebuilt).selfTest() === true) {
        log(`using the prebuilt binary ${prebuilt}`);
        process.exit(0);
      }
    } catch (err) {
      log(`prebuilt binary ${prebuilt} does not load (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); building from source`);
    }
  }
}

if (!force && existsSync(addonPath) && statSync(addonPath).mtimeMs >= newestSource()) {
  rmSync(unavailablePath, { force: true });
  log('addon up to date');
  process.exit(0);
}

if (process.env.EFFICIENTSCALE_NATIVE_SKIP_BUILD) unavailable('build skipped: EFFICIENTSCALE_NATIVE_SKIP_BUILD is set');
const cxx = process.env.CXX || 'g++';
if (!which(cxx)) unavailable(`no C++ compiler: '${cxx}' not found on PATH; ${SOURCE_BUILD_HINT}`);
if (!which('make')) unavailable(`no 'make' on PATH; ${SOURCE_BUILD_HINT}`);

const blas = blasConfig();
if (!blas.ok) unavailable(blas.reason);

// node-gyp must not download headers: point it at the running Node's own installation when it has them.
const prefix = dirname(dirname(process.execPath));
const nodedirArgs = [];
if (existsSync(join(prefix, 'include', 'node', 'node_api.h'))) nodedirArgs.push(`--nodedir=${prefix}`);
else if (existsSync('/usr/include/node/node_api.h')) nodedirArgs.push('--nodedir=/usr');
else unavailable(`no Node headers: neither ${join(prefix, 'include', 'node')} nor /usr/include/node has node_api.h (install nodejs headers, e.g. apt-get install libnode-dev)`);

// node-gyp is not a dependency: every package manager brings its own. npm and pnpm name theirs in
// npm_config_node_gyp; the workspace has it as a devDependency; else one on PATH (yarn, bun).
function nodeGypCommand() {
  const named = process.env.npm_config_node_gyp;
  if (named && existsSync(named)) return [process.execPath, named];
  try {
    return [process.execPath, createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js')];
  } catch {
    if (which('node-gyp')) return ['node-gyp'];
    return unavailable(`no node-gyp: expected the package manager's (npm_config_node_gyp), the workspace's or one on PATH, found none; ${SOURCE_BUILD_HINT}`);
  }
}
const [gypCmd, ...gypArgs] = nodeGypCommand();

log(`building addon with ${cxx} against ${blas.name} (${blas.lib})`);
const r = spawnSync(gypCmd, [...gypArgs, 'rebuild', ...nodedirArgs, '--jobs=max'], {
  cwd: pkgDir,
  encoding: 'utf8',
  env: { ...process.env, CXX: cxx },
});
if (r.status !== 0) {
  const out = `${r.stdout ?? ''}\n${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
  unavailable(`node-gyp build failed (exit ${r.status}):\n${out}`);
}
// Loading the addon proves the BLAS resolves at run time too.
try {
  const addon = createRequire(import.meta.url)(addonPath);
  const ok = addon.selfTest();
  if (ok !== true) unavailable(`addon self-test failed: ${ok}`);
} catch (err) {
  unavailable(`addon built but does not load: ${err instanceof Error ? err.message : String(err)}`);
}
rmSync(unavailablePath, { force: true });
log(`addon built: ${addonPath}`);
