import type { Command } from 'commander';
import { Option } from 'commander';
import type { BackendName } from '@efficientscale/core';
import { depthMethods, planGrow, widthMethods, type DepthMethod, type GrowPlanReport, type WidthMethod } from '@efficientscale/progressive';
import { backendOption, nonNegativeInt, positiveInt, useBackend } from './options.js';
import { addTransformFlags, runFields, runLine, runTransform, type TransformFlags, type TransformRun } from './transform-run.js';

interface GrowFlags extends TransformFlags {
  hidden?: number;
  heads?: number;
  kvHeads?: number;
  ffn?: number;
  layers?: number;
  widthMethod: WidthMethod;
  depthMethod: DepthMethod;
  seed: number;
  backend: BackendName;
}

function describe(run: TransformRun<GrowPlanReport>): string {
  const r = run.report;
  const lines: string[] = [];
  if (r.width) {
    const { before: b, after: a } = r.width;
    lines.push(`width (${r.width.method}): hidden ${b.hidden} → ${a.hidden}, heads ${b.heads} → ${a.heads}, kv heads ${b.kvHeads} → ${a.kvHeads}, ffn ${b.ffn} → ${a.ffn}`);
    lines.push(`  ${r.width.note}`);
  }
  if (r.depth) {
    const added = r.depth.newLayers.map((l) => (l.source < 0 ? `${l.index} (fresh)` : `${l.index} (from ${l.source})`)).join(', ');
    lines.push(`depth (${r.depth.method}): layers ${r.depth.layersBefore} → ${r.depth.layersAfter}; new layers: ${added || 'none'}`);
    lines.push(`  ${r.depth.note}`);
  }
  lines.push(`params ${r.paramsBefore} → ${r.paramsAfter}; optimizer state ${run.resumable ? 'grown with the weights' : 'absent'}`);
  lines.push(`${r.exact ? 'exact by construction' : 'not exact'}; probe logits: ${run.probe ? `max |Δ| ${run.probe.maxAbsLogitDiff.toExponential(3)}` : 'not measured (streamed)'}`);
  return lines.join('\n') + '\n' + runLine(run);
}

export function registerGrow(program: Command): void {
  const cmd = program
    .command('grow')
    .description('grow a checkpoint\'s width and/or depth, function-preserving where the method is exact (a new checkpoint)')
    .argument('<dir>', 'a run directory, a checkpoint directory or a Hugging Face directory')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .option('--hidden <h>', 'new hidden size', positiveInt)
    .option('--heads <n>', 'new number of attention heads', positiveInt)
    .option('--kv-heads <n>', 'new number of key/value heads', positiveInt)
    .option('--ffn <f>', 'new FFN intermediate size', positiveInt)
    .option('--layers <l>', 'new number of decoder layers', positiveInt)
    .addOption(new Option('--width-method <m>', 'width growth method').choices([...widthMethods]).default('fpi'))
    .addOption(new Option('--depth-method <m>', 'depth growth method').choices([...depthMethods]).default('zero'))
    .option('--seed <n>', 'seed for new weights and uneven splits', nonNegativeInt, 0);
  addTransformFlags(cmd)
    .addOption(backendOption())
    .option('--json', 'print the growth report as one JSON object')
    .action(async (dir: string, flags: GrowFlags) => {
      await useBackend(flags.backend, true);
      const options = { hidden: flags.hidden, heads: flags.heads, kvHeads: flags.kvHeads, ffn: flags.ffn, layers: flags.layers, widthMethod: flags.widthMethod, depthMethod: flags.depthMethod, seed: flags.seed };
      const run = runTransform(dir, flags, ({ config }) => planGrow(config, options));
      const json = { ...runFields(run), inDir: run.from, outDir: run.out, ...run.report, maxLogitGap: run.probe?.maxAbsLogitDiff, optimizerState: run.resumable };
      process.stdout.write(flags.json ? `${JSON.stringify(json)}\n` : describe(run));
    });
}
