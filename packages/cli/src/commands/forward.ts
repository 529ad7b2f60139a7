import type { Command } from 'commander';
import { disposeModel, forward, loadModel, locateNonfinite, mismatch, readSafetensors, resolveCheckpointDir, tf, toRaw, writeSafetensors, type BackendName } from '@efficientscale/core/node';
import { backendOption, useBackend } from './options.js';
import { addForceOption, checkOutputFiles } from './outputs.js';

interface ForwardFlags {
  input: string;
  out: string;
  backend: BackendName;
  json?: boolean;
  allowNonfinite?: boolean;
  force?: boolean;
}

export function registerForward(program: Command): void {
  addForceOption(program
    .command('forward'))
    .description('run the forward pass on input_ids ([batch, seq] int32) from a safetensors file; write float32 logits')
    .argument('<dir>', 'a checkpoint directory in the Hugging Face layout (ours or transformers\')')
    .requiredOption('--input <file>', 'safetensors file with an integer tensor "input_ids" [batch, seq]')
    .requiredOption('--out <file>', 'safetensors file to write "logits" [batch, seq, vocab] to')
    .addOption(backendOption())
    .option('--allow-nonfinite', 'load weights holding NaN/Inf instead of refusing them (forensics)')
    .option('--json', 'print one JSON object: the output file and the logits\' shape')
    .action(async (dirArg: string, flags: ForwardFlags) => {
      await checkOutputFiles([['--out', flags.out]], flags.force);
      await useBackend(flags.backend, true);
      const ids = readSafetensors(flags.input).tensors.input_ids;
      if (!ids) throw mismatch(flags.input, 'a tensor named "input_ids"', 'none');
      if (ids.dtype !== 'I32' || ids.shape.length !== 2) {
        throw mismatch(`${flags.input}: input_ids`, 'an integer tensor of rank 2 [batch, seq]', `${ids.dtype} of shape [${ids.shape}]`);
      }
      const model = loadModel(resolveCheckpointDir(dirArg), { allowNonfinite: flags.allowNonfinite });
      const vocab = model.config.vocab_size;
      const bad = (ids.data as Int32Array).findIndex((v) => v < 0 || v >= vocab);
      if (bad >= 0) throw mismatch(`${flags.input}: input_ids[${bad}]`, `a token id in [0, ${vocab})`, String(ids.data[bad]));
      const tokens = tf.tensor2d(ids.data as Int32Array, ids.shape as [number, number], 'int32');
      const logits = tf.tidy(() => forward(model.config, model.params, tokens));
      if (!tf.tidy(() => tf.all(tf.isFinite(logits)).dataSync()[0] === 1)) {
        const where = locateNonfinite(model.config, model.params, tokens);
        const found = `NaN or Inf${where ? ` (${where})` : ''}`;
        // --allow-nonfinite asked for the logits of a model known to hold NaN/Inf: write them, and say so.
        if (!flags.allowNonfinite) throw mismatch('logits', 'finite numbers', found);
        process.stderr.write(`warning: logits hold ${found}; written as they are (--allow-nonfinite)\n`);
      }
      tokens.dispose();
      writeSafetensors(flags.out, { logits: toRaw(logits) }, { format: 'pt' });
      const shape = logits.shape;
      logits.dispose();
      disposeModel(model);
      if (flags.json) process.stdout.write(`${JSON.stringify({ out: flags.out, logits: { dtype: 'F32', shape } })}\n`);
    });
}
