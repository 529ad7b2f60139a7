import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { CheckpointTensors, TOKENIZER_CONFIG_FILE, TOKENIZER_FILE, countParams, disposeModel, loadModel, mismatch, readText, saveModel, type BackendName } from '@efficientscale/core';
import { backendOption, useBackend } from './options.js';

interface ImportFlags {
  out: string;
  backend: BackendName;
  allowNonfinite?: boolean;
  json?: boolean;
}

/** Files of a Hugging Face directory that travel with the weights (the tokenizer and its settings). */
const CARRIED = [TOKENIZER_FILE, TOKENIZER_CONFIG_FILE, 'special_tokens_map.json', 'generation_config.json'];

function sourceDtypes(dir: string): Record<string, number> {
  const tensors = CheckpointTensors.open(dir);
  try {
    const counts: Record<string, number> = {};
    for (const name of tensors.names) counts[tensors.info(name).dtype] = (counts[tensors.info(name).dtype] ?? 0) + 1;
    return counts;
  } finally {
    tensors.close();
  }
}

export function registerImport(program: Command): void {
  program
    .command('import')
    .description('copy a Hugging Face Llama/Mixtral directory (sharded or not, float16/bfloat16/float32, tokenizer.json) into one float32 checkpoint')
    .argument('<dir>', 'a local Hugging Face model directory (config.json + model.safetensors or model.safetensors.index.json)')
    .requiredOption('--out <dir>', 'new checkpoint directory (must not exist or be empty)')
    .addOption(backendOption())
    .option('--allow-nonfinite', 'load weights holding NaN/Inf instead of refusing them (forensics)')
    .option('--json', 'print one JSON object: architecture, parameters, source dtypes, carried files')
    .action(async (dir: string, flags: ImportFlags) => {
      if (fs.existsSync(flags.out) && (!fs.statSync(flags.out).isDirectory() || fs.readdirSync(flags.out).length > 0)) {
        throw mismatch('--out', 'a new or empty directory', `"${flags.out}" is not empty`);
      }
      await useBackend(flags.backend, true);
      const dtypes = sourceDtypes(dir);
      const model = loadModel(dir, { allowNonfinite: flags.allowNonfinite });
      const carried = Object.fromEntries(CARRIED.filter((f) => fs.existsSync(path.join(dir, f))).map((f) => [f, readText(path.join(dir, f), 'a text file')]));
      try {
        saveModel(flags.out, model.config, model.params, carried);
      } finally {
        disposeModel(model);
      }
      const report = {
        out: path.resolve(flags.out),
        architecture: model.config.architectures?.[0] ?? model.config.model_type ?? 'unknown',
        params: countParams(model.config),
        tensors: Object.keys(model.params).length,
        sourceDtypes: dtypes,
        sharded: !fs.existsSync(path.join(dir, 'model.safetensors')),
        carried: Object.keys(carried),
      };
      if (flags.json) process.stdout.write(`${JSON.stringify(report)}\n`);
      else {
        const from = Object.entries(dtypes).map(([d, n]) => `${n} ${d}`).join(', ');
        process.stdout.write(`imported ${report.architecture}, ${report.params.toLocaleString('en')} parameters (${from}${report.sharded ? ', sharded' : ''}) as float32 → ${flags.out}${report.carried.length ? ` with ${report.carried.join(', ')}` : ''}\n`);
      }
    });
}
