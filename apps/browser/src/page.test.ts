/**
 * The page end to end in Debian's headless Chromium, WebGPU on SwiftShader: build it with Vite, serve it,
 * start the tiny preset, train, grow, train on, download the zip, unzip it, and `efficientscale eval` it.
 * SwiftShader emulates the GPU on the CPU, so the run is a handful of one-sequence steps.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { unzipSync } from 'fflate';
import { build, preview, type PreviewServer } from 'vite';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const APP = fileURLToPath(new URL('..', import.meta.url));
const CLI = fileURLToPath(new URL('../../../packages/cli/dist/bin.js', import.meta.url));
const CHROMIUM = process.env.EFFICIENTSCALE_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic', '--no-first-run'];
// tools/setup.sh installs chromium in CI: there a missing browser is a failure, elsewhere a skip that says why.
const missing = fs.existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found (Debian/Ubuntu: apt-get install chromium, or set EFFICIENTSCALE_CHROMIUM)`;
if (missing && process.env.CI) throw new Error(`browser page test: ${missing}`);
if (missing) console.warn(`browser page test skipped: ${missing}`);

let root: string;
let server: PreviewServer;
let context: BrowserContext;
let page: Page;

beforeAll(async () => {
  if (missing) return;
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'browser-page-'));
  const outDir = path.join(root, 'dist');
  await build({ root: APP, logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  server = await preview({ root: APP, logLevel: 'warn', build: { outDir }, preview: { port: 0, host: '127.0.0.1', strictPort: false, open: false } });
  context = await chromium.launchPersistentContext(path.join(root, 'profile'), { executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS, acceptDownloads: true });
  page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error') console.error(`page: ${m.text()}`);
  });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
}, 300_000);

afterAll(async () => {
  await context?.close();
  await server?.close();
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

/** Clicks a button and waits until the page is idle again; returns the status line, failing on an error there. */
async function act(button: string, status: string): Promise<string> {
  await page.click(`#${button}`);
  await page.waitForSelector('body[data-busy="0"]', { timeout: 600_000 });
  const line = page.locator(`#${status}`);
  const text = (await line.textContent()) ?? '';
  expect(await line.getAttribute('class'), `${button}: ${text}`).not.toContain('error');
  return text;
}

let grownDir: string | undefined;

/** Clicks Download, saves the zip, unzips it in Node; returns the checkpoint directory inside. */
async function downloadAndUnzip(name: string): Promise<string> {
  const downloaded = page.waitForEvent('download');
  await act('download', 'download-status');
  const zipFile = path.join(root, `${name}.zip`);
  await (await downloaded).saveAs(zipFile);
  const out = path.join(root, name);
  for (const [entry, bytes] of Object.entries(unzipSync(new Uint8Array(fs.readFileSync(zipFile))))) {
    fs.mkdirSync(path.dirname(path.join(out, entry)), { recursive: true });
    fs.writeFileSync(path.join(out, entry), bytes);
  }
  return path.join(out, 'efficientscale-model');
}

/** `efficientscale eval DIR` (the built command, on cpu): the held-out loss it prints. */
function evalLoss(dir: string): number {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run pnpm build first`);
  const out = execFileSync(process.execPath, [CLI, 'eval', dir, '--backend', 'cpu', '--batches', '2', '--json'], { encoding: 'utf8' });
  return (JSON.parse(out.trim().split('\n').at(-1)!) as { eval_loss: number }).eval_loss;
}

describe.skipIf(missing !== undefined)('browser page (Chromium, WebGPU on SwiftShader)', () => {
  it('trains the tiny preset, grows it, trains on, and downloads a checkpoint that efficientscale eval loads', async () => {
    const url = server.resolvedUrls!.local[0];
    await page.goto(url);
    await page.waitForSelector('body[data-busy="0"]', { timeout: 120_000 });
    const backend = (await page.textContent('#backend')) ?? '';
    expect(backend).toMatch(/^WebGPU on /);

    await act('start-tiny', 'model');
    for (const [id, value] of [['steps', '2'], ['batch', '1'], ['seq', '16'], ['grow-hidden', '96'], ['grow-layers', '3']]) await page.fill(`#${id}`, value);
    expect(await act('train', 'train-status')).toMatch(/^trained 2 steps: last loss \d+\.\d+, held-out loss \d+\.\d+$/);
    expect(await act('grow', 'transform-status')).toMatch(/^grown; logits moved by at most /);
    const gap = Number((await page.textContent('#transform-status'))!.match(/at most (\S+)$/)![1]);
    expect(gap).toBeLessThan(1e-3); // lossless width + zero-initialised layers keep the function
    await page.fill('#steps', '1');
    expect(await act('train', 'train-status')).toMatch(/^trained 1 step:/);
    expect(await page.textContent('#model')).toMatch(/^3 layers, hidden 96, .* 3 steps trained$/);
    expect(await page.locator('#chart path').count()).toBe(1);

    grownDir = await downloadAndUnzip('grown');
    if (process.env.BROWSER_PAGE_SCREENSHOT) await page.screenshot({ path: process.env.BROWSER_PAGE_SCREENSHOT, fullPage: true });
    expect(fs.readdirSync(grownDir).sort()).toEqual(['config.json', 'generation_config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json']);
    const config = JSON.parse(fs.readFileSync(path.join(grownDir, 'config.json'), 'utf8'));
    expect([config.hidden_size, config.num_hidden_layers]).toEqual([96, 3]);
    expect(Number.isFinite(evalLoss(grownDir))).toBe(true);
  });

  it('loads that checkpoint directory, upcycles it to a Mixture-of-Experts, trains on, and the download evaluates', async () => {
    expect(grownDir, 'the first test made the checkpoint').toBeDefined();
    await page.setInputFiles('#load-dir', grownDir!);
    await page.waitForSelector('body[data-busy="0"]', { timeout: 120_000 });
    expect(await page.textContent('#model')).toMatch(/^loaded: 3 layers, hidden 96, .* 0 steps trained$/);
    for (const [id, value] of [['experts', '2'], ['top-k', '1'], ['steps', '1']]) await page.fill(`#${id}`, value);
    expect(await act('upcycle', 'transform-status')).toMatch(/^upcycled; logits moved by at most /);
    const gap = Number((await page.textContent('#transform-status'))!.match(/at most (\S+)$/)![1]);
    expect(gap).toBeLessThan(1e-3); // copies of the dense FFN with top-1 routing keep the function
    expect(await act('train', 'train-status')).toMatch(/^trained 1 step:/);
    const dir = await downloadAndUnzip('upcycled');
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect([config.num_local_experts, config.num_experts_per_tok, config.hidden_size]).toEqual([2, 1, 96]);
    // The loaded directory's tokenizer files travel as they were.
    expect(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')).toBe(fs.readFileSync(path.join(grownDir!, 'tokenizer.json'), 'utf8'));
    expect(Number.isFinite(evalLoss(dir))).toBe(true);
  });
});
