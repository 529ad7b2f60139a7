// Helpers shared by the consumer test (run.mjs) and the install benchmark (tools/bench/install.mjs):
// packing the workspace, scratch consumer projects, commands, folder sizes.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findProblems, packPackage, packageDirs } from '../pack-check.mjs';

export const fixtures = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');

/** Packs every workspace package into dir; returns { tarballs: name → file, files: name → listing }.
 * Throws when a package has no dist/ or its tarball lacks a file its package.json names. */
export function packAll(dir) {
  const tarballs = {};
  const files = {};
  for (const pkgDir of packageDirs()) {
    if (!fs.existsSync(path.join(pkgDir, 'dist'))) throw new Error(`${path.basename(pkgDir)}: no dist/ (run pnpm build first)`);
    let packed = packPackage(pkgDir, dir);
    let problems = findProblems(packed.manifest, packed.files);
    // A build running at the same time (tsup writes the .d.ts last) leaves dist/ incomplete for a while.
    for (let retry = 0; problems.length > 0 && retry < 6; retry++) {
      process.stderr.write(`consumer: ${packed.manifest.name}: ${problems[0]}; packing again in 20 s (a build running?)\n`);
      spawnSync('sleep', ['20']);
      packed = packPackage(pkgDir, dir);
      problems = findProblems(packed.manifest, packed.files);
    }
    if (problems.length) throw new Error(`${packed.manifest.name}: ${problems.join('; ')}`);
    tarballs[packed.manifest.name] = packed.tarball;
    files[packed.manifest.name] = packed.files;
  }
  return { tarballs, files };
}

/** Runs a command; throws with the last lines of its output when it exits non-zero. */
export function sh(cmd, cmdArgs, options = {}) {
  const r = spawnSync(cmd, cmdArgs, { encoding: 'utf8', maxBuffer: 64 << 20, ...options, env: { ...process.env, ...options.env } });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.error || r.status !== 0) {
    const tail = out.trim().split('\n').slice(-25).join('\n    ');
    throw new Error(`${cmd} ${cmdArgs.join(' ')} exited ${r.error ? r.error.message : r.status}\n    ${tail}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, out };
}

/** A folder of links to the few programs an install needs: a PATH with no compiler, make or python. */
export function compilerFreeBin(dir) {
  fs.mkdirSync(dir, { recursive: true });
  for (const prog of ['node', 'npm', 'npx', 'pnpm', 'sh', 'bash', 'env', 'cat', 'ls', 'mkdir', 'rm', 'cp', 'mv', 'tar', 'gzip', 'uname', 'id', 'dirname', 'basename', 'sed', 'grep']) {
    const found = spawnSync('sh', ['-c', `command -v ${prog}`], { encoding: 'utf8' }).stdout.trim();
    if (found) fs.symlinkSync(fs.realpathSync(found), path.join(dir, prog));
  }
  for (const compiler of ['g++', 'c++', 'cc', 'gcc', 'clang', 'make', 'python3']) {
    if (fs.existsSync(path.join(dir, compiler))) throw new Error(`${dir} must not hold ${compiler}`);
  }
  return dir;
}

/** A consumer package.json: the tarballs as file: dependencies, and overrides so that the packages'
 * dependencies on each other resolve to the tarballs too, not to the registry. */
export function writeProject(dir, names, tarballs, devDependencies = {}, registryDependencies = {}) {
  fs.mkdirSync(dir, { recursive: true });
  const files = Object.fromEntries(names.map((n) => [n, `file:${tarballs[n]}`]));
  const all = Object.fromEntries(Object.entries(tarballs).map(([n, f]) => [n, `file:${f}`]));
  const overrides = Object.fromEntries(Object.entries(all).filter(([n]) => !names.includes(n)).concat(Object.entries(files)));
  const manifest = { name: 'es-consumer', version: '0.0.0', private: true, dependencies: { ...registryDependencies, ...files }, devDependencies, overrides, pnpm: { overrides } };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f));
  return dir;
}

/** The size of a folder tree in bytes (files only, links not followed). */
export function treeBytes(dir) {
  let total = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) total += treeBytes(p);
    else if (entry.isFile()) total += fs.statSync(p).size;
  }
  return total;
}

