#!/usr/bin/env node
// `pnpm docs`: API reference from the types, with TypeDoc, for every package: docs/api/<package>/ (HTML,
// not committed: docs/.gitignore). Entry points are the source files each package's exports name under
// the workspace's '@efficientscale/source' condition, so every public subpath (scaling-laws/node) is in.
// Exits 1 when TypeDoc fails or a package's index.html is missing (CI runs it as a smoke check).
//
//   pnpm docs                 # every package
//   pnpm docs core cli        # some packages (folder names under packages/)
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv.slice(2);
const typedoc = path.join(root, 'node_modules', '.bin', 'typedoc');

/** The source entry points a package.json's exports name (the '@efficientscale/source' targets). */
export function sourceEntries(manifest) {
  return Object.values(manifest.exports ?? {})
    .map((v) => (typeof v === 'object' && v !== null ? v['@efficientscale/source'] : undefined))
    .filter((p) => typeof p === 'string');
}

let failed = 0;
const dirs = fs.readdirSync(path.join(root, 'packages')).filter((d) => fs.existsSync(path.join(root, 'packages', d, 'package.json'))).sort();
for (const dir of dirs.filter((d) => only.length === 0 || only.includes(d))) {
  const pkgDir = path.join(root, 'packages', dir);
  const manifest = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const out = path.join(root, 'docs', 'api', dir);
  const readme = fs.existsSync(path.join(pkgDir, 'README.md')) ? path.join(pkgDir, 'README.md') : 'none';
  const args = [
    ...sourceEntries(manifest).flatMap((e) => ['--entryPoints', path.join(pkgDir, e)]),
    '--tsconfig', path.join(pkgDir, 'tsconfig.json'),
    '--out', out,
    '--name', manifest.name,
    '--readme', readme,
    '--exclude', '**/*.test.ts',
    '--excludePrivate',
    '--skipErrorChecking',
    '--logLevel', 'Error',
  ];
  const started = performance.now();
  const r = spawnSync(typedoc, args, { cwd: pkgDir, encoding: 'utf8' });
  const ok = r.status === 0 && fs.existsSync(path.join(out, 'index.html'));
  if (!ok) failed++;
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${manifest.name} → docs/api/${dir}/ (${seconds} s)${ok ? '' : `\n${`${r.stdout}${r.stderr}`.trim()}`}`);
}
process.exitCode = failed > 0 ? 1 : 0;
