import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CheckpointTensors, countParams, readHfConfig, readText, streamTransform, type ModelConfig, type OutputTensor } from '@efficientscale/core';
import { nonNegativeInt, positiveInt, positiveNumber } from './options.js';
import { growDepthMapping, upcycleMapping, type SourceTensor } from './stream-mappings.js';

interface CommonFlags {
  out: string;
  shardMb: number;
  json?: boolean;
}

/** Travels along as `lowrank` carries it (the tokenizer files are carried by streamTransform). */
const CARRIED = ['trainer_state.json'];

function sourceTensors(dir: string): SourceTensor[] {
  const tensors = CheckpointTensors.open(dir);
  try {
    return tensors.names.filter((n) => !n.endsWith('rotary_emb.inv_freq')).map((name) => ({ name, shape: tensors.info(name).shape }));
  } finally {
    tensors.close();
  }
}

/** Runs one mapping through core's tensor-by-tensor pipeline and reports size, time and peak memory. */
function run(dir: string, flags: CommonFlags, what: string, before: ModelConfig, mapped: { config: ModelConfig; outputs: OutputTensor[] }, extra: object): void {
  const started = performance.now();
  const carried = Object.fromEntries(CARRIED.filter((f) => fs.existsSync(path.join(dir, f))).map((f) => [f, readText(path.join(dir, f), 'a text file')]));
  const result = streamTransform({ source: dir, out: flags.out, config: mapped.config, outputs: mapped.outputs, shardBytes: Math.round(flags.shardMb * 2 ** 20), tokenizer: dir, extraFiles: carried });
  const report = {
    out: path.resolve(flags.out),
    transform: what,
    paramsBefore: countParams(before),
    paramsAfter: countParams(mapped.config),
    tensors: result.tensors,
    shards: result.shards.length,
    bytes: result.bytes,
    wall_s: (performance.now() - started) / 1000,
    peak_rss_mb: process.resourceUsage().maxRSS / 1024,
    ...extra,
  };
  if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
  else {
    process.stdout.write(
      `${what}: ${report.paramsBefore.toLocaleString('en')} → ${report.paramsAfter.toLocaleString('en')} parameters, ${report.tensors} tensors in ${report.shards} shard(s), ` +
        `${report.wall_s.toFixed(1)} s, peak RSS ${report.peak_rss_mb.toFixed(0)} MB → ${flags.out}\n`,
    );
  }
}

export function registerStream(program: Command): void {
  program
    .command('stream-upcycle')
    .description('dense checkpoint of any size → Mixtral, tensor by tensor (each FFN copied into every expert; exact)')
    .argument('<dir>', 'a dense checkpoint directory (ours or Hugging Face, single file or sharded)')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .requiredOption('--experts <n>', 'experts per layer', positiveInt)
    .option('--top-k <k>', 'experts per token', positiveInt, 2)
    .option('--seed <n>', 'seed of the router weights', nonNegativeInt, 0)
    .option('--shard-mb <mb>', 'largest shard in MiB (one shard is written as model.safetensors)', positiveNumber, 2048)
    .option('--json', 'print one JSON object: sizes, shards, wall time and peak RSS')
    .action((dir: string, flags: CommonFlags & { experts: number; topK: number; seed: number }) => {
      const config = readHfConfig(dir);
      const mapped = upcycleMapping(config, sourceTensors(dir), { experts: flags.experts, topK: flags.topK, seed: flags.seed });
      run(dir, flags, 'stream-upcycle', config, mapped, { experts: flags.experts, topK: flags.topK });
    });

  program
    .command('stream-grow-depth')
    .description('more layers for a checkpoint of any size, tensor by tensor (new layers copy the one below with zeroed output projections; exact)')
    .argument('<dir>', 'a checkpoint directory (ours or Hugging Face, single file or sharded)')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .requiredOption('--layers <n>', 'new number of decoder layers', positiveInt)
    .option('--shard-mb <mb>', 'largest shard in MiB (one shard is written as model.safetensors)', positiveNumber, 2048)
    .option('--json', 'print one JSON object: sizes, shards, wall time and peak RSS')
    .action((dir: string, flags: CommonFlags & { layers: number }) => {
      const config = readHfConfig(dir);
      const mapped = growDepthMapping(config, sourceTensors(dir), { layers: flags.layers });
      run(dir, flags, 'stream-grow-depth', config, mapped, { inserted: mapped.inserted });
    });
}
