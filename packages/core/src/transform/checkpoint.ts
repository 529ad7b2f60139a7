/**
 * transformCheckpoint: one checkpoint directory → a new one through a plan, the same for every command
 * and pipeline stage. It resolves the input (a run directory, a checkpoint directory or a Hugging Face
 * directory), checks the config and the tensors' names, shapes and types from the headers before
 * anything is computed, runs the plan in memory or streamed, writes the new directory atomically (beside
 * it, then renamed into place) and carries the files that belong with the weights.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { tf } from '../tf.js';
import { onHost } from '../host.js';
import { CONFIG_FILE, OPTIMIZER_FILE, TRAINER_STATE_FILE } from '../io/checkpoint.js';
import { assertFinite } from '../io/nonfinite.js';
import { assertNewOutputDir } from '../io/output-path.js';
import type { StoredFloat } from '../io/dtypes.js';
import type { RawTensor } from '../io/safetensors.js';
import { readSafetensors } from '../io/safetensors-fs.js';
import { CheckpointTensors } from '../hf/checkpoint-tensors.js';
import { SafetensorsFile } from '../hf/safetensors-file.js';
import { loadHfModel, openCheckedTensors, readHfConfig } from '../hf/load-model.js';
import { storedDtypeConfig } from '../hf/write-config.js';
import { checkpointTokenizerFiles } from '../hf/tokenizer-files.js';
import type { ModelConfig } from '../model/config.js';
import type { Params } from '../model/params.js';
import { fromRaw, mapValues } from '../model/raw.js';
import { resolveCheckpointDir } from '../train/run.js';
import { cachedReader, type MomentKind, type PlanOutput, type ReadTensor, type TransformPlan } from './plan.js';
import { checkPlan, checked, momentReader, paramsReader } from './run.js';
import { writeSafetensorsStreamed, writeWeightsStreamed, type TensorToWrite } from './write.js';
import { logitGap, type LogitGap } from './probe.js';

const NONFINITE_HINT = ' (pass --allow-nonfinite / allowNonfinite to transform it anyway)';

/** What a plan builder sees of the input. */
export interface TransformInput {
  /** The checkpoint directory read (a run directory resolved to its checkpoint/). */
  dir: string;
  config: ModelConfig;
  /** The weights, in memory runs only (for statistics from a forward pass). */
  params?: Params;
  /** The source has AdamW moments (optimizer.safetensors). */
  hasOptimizer: boolean;
}

export interface TransformOptions {
  /** Read and write tensor by tensor (memory ≈ the largest few tensors) instead of loading the model. */
  stream?: boolean;
  /** Largest weight shard in bytes (default 2 GiB); one shard is written as model.safetensors. */
  shardBytes?: number;
  /** In memory: tokens [batch, seq] to measure the logit gap on (default: probeTokens of the source). */
  probeTokens?: tf.Tensor2D;
  allowNonfinite?: boolean;
  /**
   * Carry trainer_state.json even when the plan maps no moments (a pipeline stage continues its run's
   * counters with fresh moments for new weights); by default it travels only with mapped moments.
   */
  carryTrainerState?: boolean;
  /** After each tensor written (weights, then moments). */
  onTensor?: (done: number, total: number, name: string) => void;
}

export interface TransformResult<R extends object> {
  from: string;
  out: string;
  config: ModelConfig;
  report: R;
  mode: 'memory' | 'stream';
  /** How the weights are stored (the source's float type unless the plan says otherwise; config.json says so). */
  dtype: StoredFloat;
  files: string[];
  tensors: number;
  bytes: number;
  /** The AdamW moments were mapped into optimizer.safetensors (and trainer_state.json carried): `train --resume` continues from the output. */
  resumable: boolean;
  /** In memory: logits before and after on the probe tokens (absent when streamed: the models are never whole in memory). */
  probe?: LogitGap;
}

/** The one float type of the source's weights, or F32 when they mix types (or use F64). */
function sourceDtype(tensors: CheckpointTensors, names: string[]): StoredFloat {
  const types = new Set(names.map((n) => tensors.info(n).dtype));
  const only = types.size === 1 ? [...types][0] : undefined;
  return only === 'BF16' || only === 'F16' ? only : 'F32';
}

interface Source {
  read: ReadTensor;
  moments?: (kind: MomentKind) => ReadTensor;
  close(): void;
}

function memorySource(params: Params, optimizer: Params | undefined): Source {
  return {
    read: paramsReader(params),
    moments: optimizer ? (kind) => momentReader(optimizer, kind, params) : undefined,
    close: () => tf.dispose([...Object.values(params), ...Object.values(optimizer ?? {})]),
  };
}

function streamSource(tensors: CheckpointTensors, optimizerFile: string | undefined, allowNonfinite: boolean): Source {
  const finite = (name: string, raw: RawTensor, file: string) => {
    if (!allowNonfinite) assertFinite({ [name]: raw }, file, NONFINITE_HINT);
    return raw.data as Float32Array;
  };
  const optimizer = optimizerFile ? SafetensorsFile.open(optimizerFile) : undefined;
  return {
    read: cachedReader((name) => finite(name, tensors.read(name), tensors.info(name).file)),
    moments: optimizer
      ? (kind) =>
          cachedReader((name) => {
            const key = `${kind}.${name}`;
            if (!optimizer.entry(key)) return new Float32Array(tensors.info(name).shape.reduce((a, b) => a * b, 1));
            return finite(key, optimizer.read(key), optimizer.file);
          })
      : undefined,
    close: () => {
      tensors.close();
      optimizer?.close();
    },
  };
}

/**
 * Runs `build`'s plan from the checkpoint at `from` into a new checkpoint directory `to`: host work
 * (host.ts; on a GPU backend the weights load on the host backend, and statistics passes run there).
 */
export function transformCheckpoint<R extends object>(from: string, to: string, build: (input: TransformInput) => TransformPlan<R>, options: TransformOptions = {}): TransformResult<R> {
  return onHost(() => transformOnHost(from, to, build, options));
}

function transformOnHost<R extends object>(from: string, to: string, build: (input: TransformInput) => TransformPlan<R>, options: TransformOptions): TransformResult<R> {
  assertNewOutputDir(to);
  const dir = resolveCheckpointDir(from);
  const config = readHfConfig(dir);
  const checkedTensors = openCheckedTensors(dir, config); // names, shapes, float types, from the headers
  const dtypeOfSource = sourceDtype(checkedTensors.tensors, checkedTensors.names);
  const optimizerFile = fs.existsSync(path.join(dir, OPTIMIZER_FILE)) ? path.join(dir, OPTIMIZER_FILE) : undefined;
  let source: Source;
  let before: { config: ModelConfig; params: Params } | undefined;
  if (options.stream) {
    source = streamSource(checkedTensors.tensors, optimizerFile, options.allowNonfinite === true);
  } else {
    checkedTensors.tensors.close();
    const model = loadHfModel(dir, { allowNonfinite: options.allowNonfinite });
    let optimizer: Params | undefined;
    if (optimizerFile) {
      const { tensors } = readSafetensors(optimizerFile);
      if (!options.allowNonfinite) assertFinite(tensors, optimizerFile, NONFINITE_HINT);
      optimizer = mapValues(tensors, fromRaw);
    }
    source = memorySource(model.params, optimizer);
    before = model;
  }
  const staging = `${path.resolve(to)}.tmp-${randomBytes(6).toString('hex')}`;
  try {
    const plan = build({ dir, config, params: before?.params, hasOptimizer: optimizerFile !== undefined });
    checkPlan(plan);
    fs.mkdirSync(path.dirname(staging), { recursive: true });
    fs.mkdirSync(staging);
    const byName = new Map<string, PlanOutput>(plan.outputs.map((o) => [o.name, o]));
    const toWrite: TensorToWrite[] = plan.outputs.map((o) => ({ name: o.name, shape: o.shape, dtype: o.dtype ?? dtypeOfSource }));
    const resumable = source.moments !== undefined && plan.outputs.some((o) => o.moment);
    const total = toWrite.length * (resumable ? 3 : 1);
    let done = 0;
    const progress = (t: TensorToWrite) => options.onTensor?.(++done, total, t.name);
    // In memory, the outputs are kept as tensors to measure the logit gap after writing.
    const kept: Params | undefined = before ? {} : undefined;
    const weights = writeWeightsStreamed(
      staging,
      toWrite,
      (t) => {
        const data = checked(byName.get(t.name)!, byName.get(t.name)!.compute(source.read));
        if (kept) kept[t.name] = tf.tensor(data, t.shape, 'float32');
        return data;
      },
      options.shardBytes ?? 2 ** 31,
      progress,
    );
    const files = [...weights.files];
    if (resumable) {
      const moments: TensorToWrite[] = [];
      const compute = new Map<string, () => Float32Array>();
      for (const kind of ['m', 'v'] as const) {
        const read = source.moments!(kind);
        // Every weight gets both moments (zeros, where AdamW starts, for one the plan cannot map): a resume refuses a missing one.
        for (const o of plan.outputs) {
          const name = `${kind}.${o.name}`;
          const zeros = () => new Float32Array(o.shape.reduce((a, b) => a * b, 1));
          moments.push({ name, shape: o.shape, dtype: 'F32' });
          compute.set(name, () => (o.moment ? checked(o, o.moment(read, kind) ?? zeros()) : zeros()));
        }
      }
      writeSafetensorsStreamed(path.join(staging, OPTIMIZER_FILE), moments, (t) => compute.get(t.name)!(), progress);
      files.push(OPTIMIZER_FILE);
    }
    // config.json names the type the weights are stored in: the plan's when it sets one for all, else the source's.
    const storedTypes = new Set(toWrite.map((t) => t.dtype));
    const stored = storedTypes.size === 1 ? [...storedTypes][0] : dtypeOfSource;
    const outConfig = storedDtypeConfig(plan.config, stored);
    fs.writeFileSync(path.join(staging, CONFIG_FILE), `${JSON.stringify(outConfig, null, 2)}\n`);
    // The tokenizer files (from a checkpoint written before tokenizer.json, the ones its trainer state names).
    const tokenizerFiles = checkpointTokenizerFiles(dir, outConfig);
    for (const [name, text] of Object.entries(tokenizerFiles)) fs.writeFileSync(path.join(staging, name), text);
    const carryState = (resumable || options.carryTrainerState === true) && fs.existsSync(path.join(dir, TRAINER_STATE_FILE));
    if (carryState) fs.copyFileSync(path.join(dir, TRAINER_STATE_FILE), path.join(staging, TRAINER_STATE_FILE));
    const carried = [...Object.keys(tokenizerFiles), ...(carryState ? [TRAINER_STATE_FILE] : [])];
    let probe: LogitGap | undefined;
    if (before && kept) {
      try {
        probe = logitGap(before, { config: plan.config, params: kept }, options.probeTokens);
      } finally {
        tf.dispose(Object.values(kept));
      }
    }
    if (fs.existsSync(to)) fs.rmdirSync(to); // empty, checked above
    fs.renameSync(staging, to);
    return {
      from: path.resolve(dir),
      out: path.resolve(to),
      config: outConfig,
      report: plan.report,
      mode: options.stream ? 'stream' : 'memory',
      dtype: stored,
      files: [CONFIG_FILE, ...files, ...carried],
      tensors: weights.tensors,
      bytes: weights.bytes,
      resumable,
      ...(probe ? { probe } : {}),
    };
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    source.close();
  }
}
