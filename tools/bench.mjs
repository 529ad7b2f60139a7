#!/usr/bin/env node
// `pnpm bench`: builds the workspace, runs every tools/bench/*.mjs (each prints one Markdown section on
// stdout) and writes the sections, in file-name order, to BENCHMARKS.md. `pnpm bench <name>...` runs only
// the named sections and keeps the others' last text from the current BENCHMARKS.md.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const benchDir = join(root, 'tools', 'bench');
const outPath = join(root, 'BENCHMARKS.md');
const only = process.argv.slice(2);

const build = spawnSync('pnpm', ['-s', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) console.error('bench: pnpm build failed; sections needing a package that did not build will say so');

// Keep sections not re-run: they are delimited by <!-- bench:NAME --> markers. Read again just before
// writing, so that two `pnpm bench NAME` runs at once keep each other's sections.
function previousSections() {
  const found = new Map();
  if (!existsSync(outPath)) return found;
  const re = /<!-- bench:([\w-]+) -->\n([\s\S]*?)<!-- \/bench:\1 -->/g;
  for (const m of readFileSync(outPath, 'utf8').matchAll(re)) found.set(m[1], m[2]);
  return found;
}

const measured = new Map();
for (const file of readdirSync(benchDir).filter((f) => f.endsWith('.mjs')).sort()) {
  const name = file.replace(/\.mjs$/, '');
  if (only.length && !only.includes(name)) continue;
  console.error(`bench: running ${file}`);
  const r = spawnSync(process.execPath, [join(benchDir, file)], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
  measured.set(name, r.status === 0 ? r.stdout : `## ${name}\n\nNot measured: \`node tools/bench/${file}\` exited with ${r.status}.\n`);
}

const previous = previousSections();
const sections = [];
for (const file of readdirSync(benchDir).filter((f) => f.endsWith('.mjs')).sort()) {
  const name = file.replace(/\.mjs$/, '');
  const text = measured.get(name) ?? previous.get(name);
  if (text === undefined) continue;
  sections.push(`<!-- bench:${name} -->\n${text.trimEnd()}\n<!-- /bench:${name} -->`);
}

writeFileSync(outPath, `# Benchmarks\n\nWritten by \`pnpm bench\` (tools/bench.mjs); each section says how it was measured.\n\n${sections.join('\n\n')}\n`);
console.error(`bench: wrote ${outPath}`);
