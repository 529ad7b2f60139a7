// Consumer checks of how the packages are packaged (types under each resolution, one registry across the
// ESM and CommonJS builds, the CLI's behaviour in a pipe), kept apart from run.mjs's install and training
// checks. Each function runs its checks with run.mjs's check(name, fn).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sh } from './lib.mjs';

/** Compiler options of a consumer project under each module resolution. */
const RESOLUTIONS = {
  node16: { module: 'node16', moduleResolution: 'node16' },
  bundler: { module: 'preserve', moduleResolution: 'bundler' },
};

/**
 * tsc on types.ts as an ESM (.mts) and a CommonJS (.cts) consumer, each in a project of its own under each
 * resolution: in one program the .cts's view of core's .d.cts would lend the .mts the chained ops' types.
 */
export async function typeChecks(check, dir, tsc) {
  fs.copyFileSync(path.join(dir, 'types.ts'), path.join(dir, 'types.mts'));
  fs.copyFileSync(path.join(dir, 'types.ts'), path.join(dir, 'types.cts'));
  for (const [resolution, options] of Object.entries(RESOLUTIONS)) {
    for (const ext of ['mts', 'cts']) {
      const project = `tsconfig.${resolution}.${ext}.json`;
      const compilerOptions = { ...options, target: 'ES2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] };
      fs.writeFileSync(path.join(dir, project), `${JSON.stringify({ compilerOptions, files: [`types.${ext}`] }, null, 2)}\n`);
      await check(`tsc: ${resolution} resolution, ${ext === 'mts' ? 'an ESM (.mts)' : 'a CommonJS (.cts)'} consumer alone`, () => void sh(tsc, ['-p', project], { cwd: dir }));
    }
  }
}

/** ESM core and CommonJS moe/lowrank in one process share the FFN registry and UserError. */
export async function registryCheck(check, dir) {
  await check('ESM core beside CommonJS moe and lowrank: one FFN registry', () => sh('node', ['registries.mjs'], { cwd: dir }).stdout.trim());
}

/** `efficientscale --help | head -1`: the reader closes the pipe early; the CLI must exit 0 without a stack trace. */
export async function closedPipeCheck(check, dir, bin) {
  await check('efficientscale --help | head -1 exits 0 (5 runs)', () => {
    for (let run = 0; run < 5; run++) {
      const r = sh('bash', ['-c', `"${bin}" --help 2>err.txt | head -1 >/dev/null; s=\${PIPESTATUS[0]}; cat err.txt; exit $s`], { cwd: dir });
      if (r.out.trim()) throw new Error(`run ${run + 1}: expected nothing on stderr, found ${r.out.trim().split('\n')[0]}`);
    }
  });
}

/** vega and vega-lite are optional peers (npm leaves them out): a requested plot is refused in one line, before any work. */
export async function optionalPlotsCheck(check, dir, bin) {
  await check('without vega: fit --plot refused in one line, nothing written', () => {
    if (fs.existsSync(path.join(dir, 'node_modules', 'vega'))) return { skip: 'vega is installed here' };
    const rows = [2e7, 6e7, 2e8, 6e8, 2e9].flatMap((N) => [5, 20, 80].map((r) => `${N},${N * r},${1.7 + 400 / N ** 0.34 + 410 / (N * r) ** 0.28}`));
    fs.writeFileSync(path.join(dir, 'plot-points.csv'), `params,tokens,loss\n${rows.join('\n')}\n`);
    const r = sh('bash', ['-c', `"${bin}" fit plot-points.csv --out plot-law.json --plot plot.svg; echo "status=$?"`], { cwd: dir });
    const expected = 'error: --plot: expected the optional packages vega and vega-lite (npm i vega vega-lite) to draw plots, found them not installed';
    if (!r.stdout.includes('status=1')) throw new Error(`expected exit 1, found ${r.stdout.trim()}`);
    if (r.stderr.trim() !== expected) throw new Error(`expected "${expected}", found "${r.stderr.trim()}"`);
    if (fs.existsSync(path.join(dir, 'plot-law.json'))) throw new Error('expected no law written, found plot-law.json');
    return 'refused before fitting';
  });
}

/** Tools the browser project installs, pinned. */
const BROWSER_TOOLS = { vite: '7.3.8', 'playwright-core': '1.65.2' };
const CHROMIUM = '/usr/bin/chromium';
// Headless Chromium with networking switched off (as the browser page of the webgpu backend is tested).
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];

/**
 * core's main entry bundled for a browser by Vite as a user's page would, and a forward pass of the tiny preset
 * run in headless Chromium: its logits must equal Node's from the same tarball.
 */
export async function browserCheck(check, dir, tarballs, writeProject, fixturesDir) {
  const project = writeProject(dir, ['@efficientscale/core'], tarballs, BROWSER_TOOLS);
  for (const f of fs.readdirSync(fixturesDir)) fs.copyFileSync(path.join(fixturesDir, f), path.join(project, f));
  await check('npm install of core + vite + playwright-core', () => void sh('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error'], { cwd: project }));
  await check('Vite bundles core for the browser', () => {
    sh(path.join(project, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], { cwd: project });
    const assets = fs.readdirSync(path.join(project, 'dist', 'assets')).filter((f) => f.endsWith('.js'));
    const bytes = assets.reduce((s, f) => s + fs.statSync(path.join(project, 'dist', 'assets', f)).size, 0);
    return `${(bytes / 1024).toFixed(0)} KiB of JavaScript`;
  });
  await check('headless Chromium: a forward pass of the tiny preset equals Node\'s', async () => {
    if (!fs.existsSync(CHROMIUM)) return { skip: `no ${CHROMIUM} (apt-get install chromium)` };
    const expected = JSON.parse(sh('node', ['node-forward.mjs'], { cwd: project }).stdout);
    const http = await import('node:http');
    const root = path.join(project, 'dist');
    const types = { '.html': 'text/html', '.js': 'text/javascript' };
    const server = http.createServer((req, res) => {
      const file = path.join(root, decodeURIComponent(new URL(req.url, 'http://x').pathname === '/' ? '/index.html' : new URL(req.url, 'http://x').pathname));
      if (!file.startsWith(root) || !fs.existsSync(file)) return void res.writeHead(404).end();
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { chromium } = await import(path.join(project, 'node_modules', 'playwright-core', 'index.mjs'));
    const userDataDir = fs.mkdtempSync(path.join(dir, 'chromium-profile-'));
    const context = await chromium.launchPersistentContext(userDataDir, { executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    try {
      const page = await context.newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/`);
      await page.waitForFunction(() => window.result !== undefined, null, { timeout: 120_000 });
      const got = await page.evaluate(() => window.result);
      if (got.error) throw new Error(`in the browser: ${got.error.split('\n')[0]}`);
      if (JSON.stringify(got.shape) !== JSON.stringify(expected.shape)) throw new Error(`expected logits of shape ${expected.shape}, found ${got.shape}`);
      const maxDiff = got.values.reduce((m, v, i) => Math.max(m, Math.abs(v - expected.values[i])), 0);
      if (!(maxDiff <= 1e-6)) throw new Error(`expected the browser's logits within 1e-6 of Node's, found a difference of ${maxDiff}`);
      return `logits [${got.shape}], max difference from Node ${maxDiff}`;
    } finally {
      await context.close();
      server.close();
    }
  });
}
