#!/usr/bin/env node
// Max logit gap of each growth method on a probe batch, for a random 2-layer model (std 0.3 weights).
// Needs the built packages: `pnpm exec nx run progressive:build` first.
// Usage: node packages/progressive/scripts/methods.mjs
import { initParams, llamaConfig, selectBackend } from '../../core/dist/index.js';
import { growDepth, growWidth } from '../dist/index.js';

await selectBackend('cpu');
const config = llamaConfig({ vocab: 64, hidden: 16, ffn: 32, layers: 2, heads: 4, kvHeads: 2 });
const params = initParams(config, 1, 0.3);
console.log('| transform | exact | max logit gap |');
console.log('|---|---|---|');
for (const method of ['fpi', 'lossless', 'aki']) {
  const { report } = growWidth(config, params, { hidden: 40, heads: 8, ffn: 48, method, seed: 1 });
  console.log(`| growWidth ${method}: hidden 16→40, heads 4→8, kv 2→4, ffn 32→48 | ${report.exact} | ${report.maxLogitGap.toExponential(2)} |`);
}
for (const [method, exact] of [['zero', true], ['random', false], ['copy', true], ['copy', false], ['interpolate', true], ['interpolate', false], ['stack', true], ['stack', false]]) {
  const { report } = growDepth(config, params, { layers: 5, method, exact, seed: 1 });
  console.log(`| growDepth ${method}${method === 'zero' || method === 'random' ? '' : ` exact: ${exact}`}: layers 2→5 | ${report.exact} | ${report.maxLogitGap.toExponential(2)} |`);
}
