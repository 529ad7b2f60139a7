import * as path from 'node:path';
import * as vm from 'node:vm';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import * as main from './index.js';
import * as node from './node.js';

const here = path.dirname(fileURLToPath(import.meta.url));

/** What a browser page (or worker) has, and nothing of Node's: no process, require, Buffer or fs. */
function browserLikeContext(): vm.Context {
  const g: Record<string, unknown> = {
    console, TextEncoder, TextDecoder, URL, setTimeout, clearTimeout, queueMicrotask, performance, structuredClone,
    navigator: { userAgent: 'browser-like test context' },
    // tfjs-core takes a context with WorkerGlobalScope for a browser worker and picks its browser platform.
    WorkerGlobalScope: class {},
  };
  g.self = g;
  return vm.createContext(g);
}

describe('entry points', () => {
  it('the main entry bundles for a browser and runs a forward pass of the tiny preset without Node', async () => {
    // esbuild fails on any node: module (or Node-only package) reachable from the entry.
    const out = await build({
      entryPoints: [path.join(here, 'index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'core',
      write: false,
      logLevel: 'silent',
    });
    const context = browserLikeContext();
    vm.runInContext(`${out.outputFiles[0].text}\nself.core = core;`, context);
    const bundled = context.core as typeof main;
    await bundled.selectBackend('cpu');
    const { config } = bundled.getPreset('tiny');
    const tokens = [[72, 105, 33, 10]];
    const inBrowser = bundled.forward(config, bundled.initParams(config, 7), bundled.tf.tensor2d(tokens, [1, 4], 'int32'));
    const inNode = main.forward(config, main.initParams(config, 7), main.tf.tensor2d(tokens, [1, 4], 'int32'));
    expect(inBrowser.shape).toEqual([1, 4, config.vocab_size]);
    expect(Array.from(inBrowser.dataSync())).toEqual(Array.from(inNode.dataSync()));
    // The checkpoint files the browser page zips: byte for byte what Node makes (no Buffer there).
    const inBrowserFiles = bundled.modelFiles(config, bundled.initParams(config, 7), new bundled.ByteTokenizer());
    const inNodeFiles = main.modelFiles(config, main.initParams(config, 7), new main.ByteTokenizer());
    expect(Object.keys(inBrowserFiles).sort()).toEqual(Object.keys(inNodeFiles).sort());
    for (const [name, content] of Object.entries(inNodeFiles)) expect(Array.from(new TextEncoder().encode(String(inBrowserFiles[name]))), name).toEqual(Array.from(new TextEncoder().encode(String(content))));
  });

  it('/node re-exports every export of the main entry, as the same objects', () => {
    for (const [name, value] of Object.entries(main)) expect((node as Record<string, unknown>)[name], name).toBe(value);
    expect(Object.keys(node).length).toBeGreaterThan(Object.keys(main).length);
  });
});
