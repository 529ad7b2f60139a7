import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { TOKENIZER_FILES, checkFinite, countParams, float32Config, openCheckedTensors, readHfConfig, streamTransform, type OutputTensor } from '@efficientscale/core';
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
      // Checked against config.json from the headers; then streamed, so a model bigger than memory imports too.
      const { tensors, names } = openCheckedTensors(dir, config);
      const dtypes: Record<string, number> = {};
      const outputs: OutputTensor[] = names.map((name) => {
        const { dtype, shape, file } = tensors.info(name);
        dtypes[dtype] = (dtypes[dtype] ?? 0) + 1;
        return {
          name,
          shape,
          compute: (read) => {
            const data = read(name);
            checkFinite(name, { dtype: 'F32', shape, data }, file, flags);
            return data;
          },
        };
      });
      const sharded = tensors.source.endsWith('.index.json');
      tensors.close();
      // The tokenizer and its settings travel with the weights.
      const carried = TOKENIZER_FILES.filter((f) => fs.existsSync(path.join(dir, f)));
      const result = streamTransform({ source: dir, out: flags.out, config: float32Config(config), outputs, shardBytes: Math.round(flags.shardMb * 2 ** 20), tokenizer: dir });
      const report = {
        out: path.resolve(flags.out),
        architecture: config.architectures?.[0] ?? config.model_type ?? 'unknown',
        params: countParams(config),
        tensors: result.tensors,
        sourceDtypes: dtypes,
        sharded,
        shards: result.shards.length,
        carried,
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const from = Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ');
        process.stdout.write(`imported ${report.architecture}, ${report.params.toLocaleString('en')} parameters (${from}${sharded ? ', sharded' : ''}) as float32 in ${report.shards} shard(s) → ${flags.out}${report.carried.length ? ` with ${report.carried.join(', ')}` : ''}\n`);
      }
    });
}
