import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { TOKENIZER_FILES, copyOutput, countParams, openCheckedTensors, readHfConfig, transformCheckpoint, weightTable, type PlanOutput } from '@efficientscale/core/node';
import { positiveNumber } from './options.js';

interface ImportFlags {
  out: string;
  shardMb: number;
  allowNonfinite?: boolean;
  json?: boolean;
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('copy a Hugging Face Llama/Mixtral directory (sharded or not, float16/bfloat16/float32, tokenizer.json) into a float32 checkpoint, tensor by tensor')
    .argument('<dir>', 'a local Hugging Face model directory (config.json + model.safetensors or model.safetensors.index.json)')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .option('--shard-mb <mb>', 'largest shard in MiB (one shard is written as model.safetensors)', positiveNumber, 4096)
    .option('--allow-nonfinite', 'copy weights holding NaN/Inf instead of refusing them (forensics)')
    .option('--json', 'print one JSON object: architecture, parameters, source dtypes, shards, carried files')
    .action((dir: string, flags: ImportFlags) => {
      const config = readHfConfig(dir);
      const { tensors, names } = openCheckedTensors(dir, config);
      const dtypes: Record<string, number> = {};
      for (const name of names) dtypes[tensors.info(name).dtype] = (dtypes[tensors.info(name).dtype] ?? 0) + 1;
      const sharded = tensors.source.endsWith('.index.json');
      tensors.close();
      // A copy plan that stores every weight as float32 (weights only: no moments, no trainer state), streamed:
      // a model bigger than memory imports too.
      const copyAsFloat32 = (o: PlanOutput): PlanOutput => ({ ...o, dtype: 'F32', moment: undefined });
      const result = transformCheckpoint(
        dir,
        flags.out,
        ({ config: c }) => ({ config: c, outputs: weightTable(c).map((w) => copyAsFloat32(copyOutput(w.name, w.name, w.shape))), report: {} }),
        { stream: true, shardBytes: Math.round(flags.shardMb * 2 ** 20), allowNonfinite: flags.allowNonfinite },
      );
      // The tokenizer and its settings travel with the weights (generation_config.json is made when absent).
      const carried = TOKENIZER_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
      const report = {
        out: result.out,
        architecture: config.architectures?.[0] ?? config.model_type ?? 'unknown',
        params: countParams(config),
        tensors: result.tensors,
        sourceDtypes: dtypes,
        sharded,
        shards: result.files.filter((f) => f.endsWith('.safetensors')).length,
        carried,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const from = Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ');
        process.stdout.write(`imported ${report.architecture}, ${report.params.toLocaleString('en')} parameters (${from}${sharded ? ', sharded' : ''}) as float32 in ${report.shards} shard(s) → ${flags.out}${report.carried.length ? ` with ${report.carried.join(', ')}` : ''}\n`);
      }
    });
}
