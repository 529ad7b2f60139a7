#!/usr/bin/env node
// Packs what tools/gpu-check.sh needs on a GPU machine that has Python + torch but no Node and no
// network, into gpu-check/pack (gitignored; at most 64 MiB travel): this Node binary (xz), the CLI bundled
// with its JavaScript dependencies (esbuild), Dawn's dawn.node for linux-x64 (xz) and the Vulkan loader
// package (libvulkan1, apt-get download; unpacked there with dpkg -x). Run after `pnpm build`.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const out = path.join(root, 'gpu-check', 'pack');
// PACK_KEEP_NODE=1 keeps a node.xz packed before (xz -9 of Node takes minutes on 2 cores)
const keptNode = process.env.PACK_KEEP_NODE === '1' && fs.existsSync(path.join(out, 'node.xz')) ? fs.readFileSync(path.join(out, 'node.xz')) : null;
fs.rmSync(out, { recursive: true, force: true });
fs.mkdirSync(path.join(out, 'debs'), { recursive: true });
const sh = (cmd, args, opts = {}) => execFileSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], ...opts });

// 1. Node itself, xz-compressed
fs.writeFileSync(path.join(out, 'node.xz'), keptNode ?? sh('xz', ['-9', '-T2', '-c', process.execPath], { maxBuffer: 1 << 30 }));
// 2. the CLI as one ES module; Dawn's binding stays a separate package (a native addon)
const require = createRequire(path.join(root, 'packages/cli/package.json'));
const esbuild = createRequire(require.resolve('tsup')).resolve('esbuild');
const { buildSync } = await import(esbuild);
// core imports its optional backends by name: backend-webgpu is a second entry sharing the chunks (one
// tfjs-core), reached through a stub package under app/node_modules.
buildSync({
  entryPoints: { efficientscale: path.join(root, 'packages/cli/dist/bin.js'), 'backend-webgpu': path.join(root, 'packages/backend-webgpu/dist/index.js') },
  bundle: true,
  splitting: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  outdir: path.join(out, 'app'),
  outExtension: { '.js': '.mjs' },
  external: ['webgpu', '@efficientscale/backend-native', '@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-backend-wasm'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  // tfjs's backends register themselves on import, which their package.json calls side-effect free
  ignoreAnnotations: true,
  logLevel: 'error',
});
const stub = path.join(out, 'app', 'node_modules', '@efficientscale', 'backend-webgpu');
fs.mkdirSync(stub, { recursive: true });
fs.writeFileSync(path.join(stub, 'package.json'), JSON.stringify({ name: '@efficientscale/backend-webgpu', type: 'module', main: 'index.js' }) + '\n');
fs.writeFileSync(path.join(stub, 'index.js'), "export * from '../../../backend-webgpu.mjs';\n");
// the CLI reads its own package.json (version) one folder above its file
fs.copyFileSync(path.join(root, 'packages/cli/package.json'), path.join(out, 'package.json'));
// 3. webgpu: its loader and the linux-x64 binary only
const webgpuDir = path.dirname(createRequire(path.join(root, 'packages/backend-webgpu/package.json')).resolve('webgpu/package.json'));
const dest = path.join(out, 'app', 'node_modules', 'webgpu');
fs.mkdirSync(path.join(dest, 'dist', 'linux-x64'), { recursive: true });
for (const f of ['index.js', 'package.json']) fs.copyFileSync(path.join(webgpuDir, f), path.join(dest, f));
fs.writeFileSync(path.join(dest, 'dist', 'linux-x64', 'dawn.node.xz'), sh('xz', ['-9', '-T2', '-c', path.join(webgpuDir, 'dist', 'linux-x64', 'dawn.node')], { maxBuffer: 1 << 30 }));
// 4. the Vulkan loader
sh('apt-get', ['download', 'libvulkan1'], { cwd: path.join(out, 'debs') });
// 5. the peer benchmark and a corpus-free tiny run need nothing else
fs.copyFileSync(path.join(root, '../shared/bench/torch_llama_bench.py'), path.join(out, 'torch_llama_bench.py'));

const size = (dir) => fs.readdirSync(dir, { withFileTypes: true }).reduce((s, e) => s + (e.isDirectory() ? size(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).size), 0);
console.log(`gpu-check: packed ${(size(out) / 2 ** 20).toFixed(1)} MiB into ${path.relative(root, out)}`);
