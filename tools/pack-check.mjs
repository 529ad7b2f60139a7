#!/usr/bin/env node
// Packs every workspace package with `pnpm pack` into a temporary folder and checks each tarball against
// the package.json inside it (the one npm users get, after publishConfig): every file that main, module,
// types, bin and exports name is in the tarball, none of them is a source path, CommonJS entry points carry
// .d.cts types, and LICENSE ships. Needs no network and no build beyond the dist/ folders that exist.
//
//   node tools/pack-check.mjs          # all packages with a dist/; exit 1 on any problem
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const workspaceRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** `./dist/index.js` → `dist/index.js`, as tarball listings write paths. */
const normalise = (p) => path.posix.normalize(p).replace(/^\.\//, '');

/** Every file path an `exports` value names, with the chain of conditions that leads to it. */
function exportTargets(value, conditions = []) {
  if (typeof value === 'string') return [{ path: value, conditions }];
  if (value === null || typeof value !== 'object') return [];
  if (Array.isArray(value)) return value.flatMap((v) => exportTargets(v, conditions));
  return Object.entries(value).flatMap(([key, v]) => exportTargets(v, [...conditions, key]));
}

/** The files a manifest names: main, module, types/typings, bin and every exports target. */
export function namedFiles(manifest) {
  const named = [];
  for (const field of ['main', 'module', 'types', 'typings']) {
    if (typeof manifest[field] === 'string') named.push({ path: manifest[field], field });
  }
  const bin = typeof manifest.bin === 'string' ? { [manifest.name]: manifest.bin } : (manifest.bin ?? {});
  for (const [name, file] of Object.entries(bin)) named.push({ path: file, field: `bin.${name}` });
  for (const t of exportTargets(manifest.exports ?? {})) named.push({ path: t.path, field: `exports[${t.conditions.join('][')}]`, conditions: t.conditions });
  return named;
}

/** What is wrong with a packed manifest, given the tarball's file list; one line per problem. */
export function findProblems(manifest, files) {
  const have = new Set(files.map(normalise));
  const problems = [];
  for (const { path: p, field, conditions = [] } of namedFiles(manifest)) {
    const file = normalise(p);
    if (file.includes('*')) continue; // subpath patterns are not single files
    if (file === 'src' || file.startsWith('src/')) problems.push(`${field}: expected a built file, found the source path ${p}`);
    else if (!have.has(file)) problems.push(`${field}: expected ${p} in the tarball, found none`);
    if (conditions.at(-1) === 'types' && conditions.includes('require') && !file.endsWith('.d.cts')) {
      problems.push(`${field}: expected CommonJS types (.d.cts), found ${p}`);
    }
  }
  if (!have.has('LICENSE')) problems.push('LICENSE: expected in the tarball, found none');
  return problems;
}

/** Workspace package folders (packages/* with a package.json), sorted. */
export function packageDirs(root = workspaceRoot) {
  const base = path.join(root, 'packages');
  return fs
    .readdirSync(base)
    .map((name) => path.join(base, name))
    .filter((dir) => fs.existsSync(path.join(dir, 'package.json')))
    .sort();
}

/** Packs one package into dest; returns the packed manifest and the tarball's file list. */
export function packPackage(dir, dest) {
  const out = execFileSync('pnpm', ['pack', '--pack-destination', dest, '--json'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const report = JSON.parse(out.slice(out.indexOf('{')));
  const manifest = JSON.parse(execFileSync('tar', ['-xzf', report.filename, '-O', 'package/package.json'], { encoding: 'utf8' }));
  return { manifest, files: report.files.map((f) => f.path), tarball: report.filename };
}

/** Packs and checks one package; a package without dist/ is skipped with the reason. */
export function checkPackage(dir, dest) {
  const name = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).name;
  if (!fs.existsSync(path.join(dir, 'dist'))) return { name, skipped: 'no dist/ (run pnpm build first)', problems: [] };
  const { manifest, files, tarball } = packPackage(dir, dest);
  return { name, tarball, files, problems: findProblems(manifest, files) };
}

function main() {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'es-pack-check-'));
  let failed = 0;
  try {
    for (const dir of packageDirs()) {
      const r = checkPackage(dir, dest);
      if (r.skipped) console.log(`skip ${r.name}: ${r.skipped}`);
      else if (r.problems.length === 0) console.log(`ok   ${r.name} (${r.files.length} files)`);
      else {
        failed++;
        for (const p of r.problems) console.log(`FAIL ${r.name}: ${p}`);
      }
    }
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
