import { tf } from '../tf.js';
import { UserError } from '../errors.js';
import type { ModelConfig } from '../model/config.js';
import { averageFfnMetrics, readDeviceMetrics, type FfnDeviceMetrics, type FfnMetrics } from '../model/ffn-slot.js';
import { checkParams, initParams, paramShapes, type Params } from '../model/params.js';
import { forwardWithAux } from '../model/forward.js';
import { locateNonfinite } from '../model/diagnose.js';
import { flopsPerToken } from '../model/flops.js';
import { BatchSampler, evalBatches, type SamplerState } from '../data/batches.js';
import { AdamW, type AdamWOptions } from './adamw.js';
import { clipByGlobalNorm, clipByGlobalNormOnDevice } from './clip.js';
import { onHost, prefetchToHost, readsAreAsync } from '../host.js';
import { crossEntropy } from './loss.js';
import { evaluateLoss } from './evaluate.js';
import { learningRate, type ScheduleSpec } from './schedule.js';

export interface TrainerOptions {
  batchSize: number;
  seqLen: number;
  /** Micro-batches whose gradients are averaged into one optimizer step. */
  accumulation: number;
  schedule: ScheduleSpec;
  adamw: AdamWOptions;
  /** Global gradient-norm clip; 0 disables. */
  clipNorm: number;
  seed: number;
  /** Batches of the held-out split that make one eval loss. */
  evalBatches: number;
}

/** What a resumed run needs besides params and optimizer moments. */
export interface TrainerState {
  step: number;
  tokens: number;
  flops: number;
  sampler: SamplerState;
}

export interface StepMetrics {
  step: number;
  loss: number;
  auxLoss: number;
  lr: number;
  gradNorm: number;
  tokens: number;
  flops: number;
  stepSeconds: number;
  /** The FFN slots' metrics averaged over the step's micro-batches (absent for dense models). */
  ffnMetrics?: FfnMetrics;
}

/**
 * A step whose numbers are still on the device (see Trainer.stepDeferred): read them when they are
 * logged. A non-finite loss is reported by read(), after the update was applied.
 */
export interface PendingStep {
  readonly step: number;
  read(): Promise<StepMetrics>;
  /** Frees the step's device scalars without reading them. */
  dispose(): void;
}

let trainerIds = 0;

/**
 * One model being trained: variables, AdamW state and data position. `step()` runs one optimizer step
 * (forward, backward, clip, AdamW) and leaves no tensors behind.
 */
export class Trainer {
  readonly vars: Record<string, tf.Variable> = {};
  readonly optimizer: AdamW;
  readonly sampler: BatchSampler;
  /** Per-weight LR multipliers (absent: 1), e.g. the blocks a growth added (depth-aware LR); reset by replaceModel. */
  lrScale: Record<string, number> = {};
  state: TrainerState;
  private readonly id = ++trainerIds;
  private flopsPerStep: number;

  constructor(
    public config: ModelConfig,
    params: Params,
    private readonly trainIds: Int32Array,
    private readonly valIds: Int32Array,
    readonly options: TrainerOptions,
    resume?: { state: TrainerState; optimizer: Record<string, tf.Tensor>; optimizerStep: number },
  ) {
    checkParams(config, params, 'params');
    // One token has nothing to predict (and tfjs's one-hot refuses a depth below 2 deep in the backward pass).
    if (config.vocab_size < 2) throw new UserError(`vocab_size: expected at least 2 tokens to train on, found ${config.vocab_size}`);
    this.adopt(config, params);
    this.optimizer = new AdamW(options.adamw);
    const samplerOpts = { batchSize: options.batchSize, seqLen: options.seqLen, seed: options.seed };
    if (resume) {
      this.sampler = BatchSampler.restore(trainIds, samplerOpts, resume.state.sampler);
      this.optimizer.loadState(resume.optimizer, resume.optimizerStep);
      this.state = { ...resume.state };
    } else {
      this.sampler = new BatchSampler(trainIds, samplerOpts);
      this.state = { step: 0, tokens: 0, flops: 0, sampler: this.sampler.state };
    }
    this.flopsPerStep = this.computeFlopsPerStep();
  }

  /**
   * Makes trainable variables of `params` in the config's canonical weight order, whatever order they
   * came in (a checkpoint file sorts them differently): gradient sums then add up in the same order,
   * which keeps a resumed run bit-identical to an uninterrupted one.
   */
  private adopt(config: ModelConfig, params: Params): void {
    this.config = config;
    for (const name of Object.keys(paramShapes(config))) this.vars[name] = tf.variable(params[name], true, `${name}@trainer${this.id}`);
  }

  /**
   * Starts from given weights (copied in) at step 0, with AdamW moments and their Adam step when given
   * (weights without moments start theirs at zero): a new run from a checkpoint.
   */
  static fromWeights(config: ModelConfig, params: Params, trainIds: Int32Array, valIds: Int32Array, options: TrainerOptions, optimizer?: Record<string, tf.Tensor>, optimizerStep = 0): Trainer {
    const trainer = new Trainer(config, params, trainIds, valIds, options);
    if (optimizer) trainer.optimizer.loadState(optimizer, optimizerStep);
    else trainer.optimizer.step = optimizerStep;
    return trainer;
  }

  /** Starts from fresh weights (seeded). */
  static fresh(config: ModelConfig, trainIds: Int32Array, valIds: Int32Array, options: TrainerOptions): Trainer {
    const params = initParams(config, options.seed);
    const trainer = new Trainer(config, params, trainIds, valIds, options);
    tf.dispose(Object.values(params));
    return trainer;
  }

  private computeFlopsPerStep(): number {
    const { batchSize, seqLen, accumulation } = this.options;
    return flopsPerToken(this.config, seqLen).trainPerToken * batchSize * seqLen * accumulation;
  }

  get params(): Params {
    return this.vars;
  }

  private lossOf(inputs: tf.Tensor2D, targets: tf.Tensor2D): { total: tf.Scalar; ce: tf.Scalar; aux: tf.Scalar; ffnMetrics: FfnMetrics; ffnDeviceMetrics: FfnDeviceMetrics } {
    const { logits, auxLoss, ffnMetrics, ffnDeviceMetrics } = forwardWithAux(this.config, this.vars, inputs);
    const ce = crossEntropy(logits, targets);
    logits.dispose();
    return { total: tf.add(ce, auxLoss) as tf.Scalar, ce, aux: auxLoss, ffnMetrics, ffnDeviceMetrics };
  }

  /** Forward and backward over `accumulation` micro-batches: loss terms per micro-batch (on the device) and summed grads. */
  private forwardBackward(): { ce: tf.Scalar[]; aux: tf.Scalar[]; grads: Record<string, tf.Tensor>; microMetrics: FfnMetrics[]; deviceMetrics: FfnDeviceMetrics[]; inputs: Int32Array[] } {
    const { batchSize, seqLen, accumulation } = this.options;
    const varList = Object.values(this.vars);
    let summed: Record<string, tf.Tensor> | undefined;
    const ceList: tf.Scalar[] = [];
    const auxList: tf.Scalar[] = [];
    const microMetrics: FfnMetrics[] = [];
    const deviceMetrics: FfnDeviceMetrics[] = [];
    const microInputs: Int32Array[] = []; // kept (not copied) to diagnose a non-finite loss
    for (let micro = 0; micro < accumulation; micro++) {
      const batch = this.sampler.next();
      microInputs.push(batch.inputs);
      const inputs = tf.tensor2d(batch.inputs, [batchSize, seqLen], 'int32');
      const targets = tf.tensor2d(batch.targets, [batchSize, seqLen], 'int32');
      const { value, grads } = tf.variableGrads(() => {
        const l = this.lossOf(inputs, targets);
        ceList.push(tf.keep(l.ce));
        auxList.push(tf.keep(l.aux));
        microMetrics.push(l.ffnMetrics);
        for (const layers of Object.values(l.ffnDeviceMetrics)) for (const t of Object.values(layers)) tf.keep(t);
        deviceMetrics.push(l.ffnDeviceMetrics);
        return l.total;
      }, varList);
      tf.dispose([value, inputs, targets]);
      if (!summed) summed = grads;
      else {
        for (const k of Object.keys(grads)) {
          const next = tf.add(summed[k], grads[k]);
          tf.dispose([summed[k], grads[k]]);
          summed[k] = next;
        }
      }
    }
    // variableGrads keys gradients by variable name; map back to HF weight names.
    const grads: Record<string, tf.Tensor> = {};
    for (const [name, v] of Object.entries(this.vars)) {
      const g = summed![v.name];
      if (g) grads[name] = accumulation > 1 ? tf.tidy(() => tf.div(g, accumulation)) : g;
      if (g && accumulation > 1) g.dispose();
    }
    return { ce: ceList, aux: auxList, grads, microMetrics, deviceMetrics, inputs: microInputs };
  }

  /**
   * The error for a non-finite training loss, naming what went non-finite first on the first micro-batch
   * whose loss did (a diagnostic pass: it runs only here, never on a finite step).
   */
  private nonFinite(step: number, loss: number, microLosses: number[], inputs: Int32Array[]): UserError {
    const bad = microLosses.findIndex((x) => !Number.isFinite(x));
    const where = bad >= 0 ? this.diagnose(inputs[bad]) : undefined;
    return new UserError(`training loss at step ${step}: expected a finite number, found ${loss} (${where ? `${where}; ` : ''}lower the learning rate or check the data)`);
  }

  /** What went non-finite first on these inputs (weights or a layer's output). */
  private diagnose(inputs: Int32Array): string | undefined {
    const { batchSize, seqLen } = this.options;
    const tokens = tf.tensor2d(inputs, [batchSize, seqLen], 'int32');
    try {
      return locateNonfinite(this.config, this.vars, tokens);
    } finally {
      tokens.dispose();
    }
  }

  /** Advances step, tokens and FLOPs after an update; returns what the metrics need. */
  private advance(): { tokens: number; flops: number; step: number } {
    const { batchSize, seqLen, accumulation } = this.options;
    this.state = {
      step: this.state.step + 1,
      tokens: this.state.tokens + batchSize * seqLen * accumulation,
      flops: this.state.flops + this.flopsPerStep,
      sampler: this.sampler.state,
    };
    return { step: this.state.step, tokens: this.state.tokens, flops: this.state.flops };
  }

  /**
   * One optimizer step over `accumulation` micro-batches, its numbers read synchronously (the loss is
   * checked before the update is applied). For backends the host reads directly (cpu, native); on webgpu
   * use stepAsync() or stepDeferred().
   */
  step(): StepMetrics {
    const started = performance.now();
    const { accumulation, clipNorm } = this.options;
    const { ce, aux, grads, microMetrics, deviceMetrics, inputs } = this.forwardBackward();
    deviceMetrics.forEach((d, i) => {
      for (const [name, layers] of Object.entries(d)) {
        for (const [layer, t] of Object.entries(layers)) ((microMetrics[i][name] ??= {})[layer] = Array.from(t.dataSync()));
        tf.dispose(Object.values(layers));
      }
    });
    const microLosses = ce.map((x) => x.dataSync()[0]);
    const loss = microLosses.reduce((s, x) => s + x, 0) / accumulation;
    const auxLoss = aux.reduce((s, x) => s + x.dataSync()[0], 0) / accumulation;
    tf.dispose([...ce, ...aux]);
    if (!Number.isFinite(loss)) {
      tf.dispose(Object.values(grads));
      throw this.nonFinite(this.state.step + 1, loss, microLosses, inputs);
    }
    const clipped = clipByGlobalNorm(grads, clipNorm);
    const lr = learningRate(this.options.schedule, this.state.step);
    this.applyUpdate(clipped.grads, lr);
    tf.dispose(Object.values(clipped.grads));
    const { step, tokens, flops } = this.advance();
    return { step, loss, auxLoss, lr, gradNorm: clipped.norm, tokens, flops, stepSeconds: (performance.now() - started) / 1000, ffnMetrics: averageFfnMetrics(microMetrics) };
  }

  /**
   * One optimizer step with nothing read back: forward, backward, clip and update are queued on the
   * device, and the loss, aux loss and gradient norm stay there as scalars until `read()` (a training
   * loop reads them when it logs, so the GPU is never idle waiting for the host in between).
   */
  stepDeferred(): PendingStep {
    const started = performance.now();
    const { accumulation, clipNorm } = this.options;
    const { ce, aux, grads, microMetrics, deviceMetrics, inputs } = this.forwardBackward();
    const clipped = clipByGlobalNormOnDevice(grads, clipNorm);
    const lr = learningRate(this.options.schedule, this.state.step);
    this.applyUpdate(clipped.grads, lr);
    tf.dispose(Object.values(clipped.grads));
    const { step, tokens, flops } = this.advance();
    const held = [...ce, ...aux, clipped.norm];
    const queuedSeconds = (performance.now() - started) / 1000;
    return {
      step,
      read: async () => {
        const [values] = await Promise.all([
          Promise.all(held.map(async (t) => (await t.data())[0])),
          ...deviceMetrics.map((d, i) => readDeviceMetrics(d, microMetrics[i])),
        ]);
        tf.dispose(held);
        const a = accumulation;
        const loss = values.slice(0, a).reduce((s, x) => s + x, 0) / a;
        // The weights have moved on since (the update was queued): the diagnosis looks at them as they are now.
        if (!Number.isFinite(loss)) throw this.nonFinite(step, loss, values.slice(0, a), inputs);
        const auxLoss = values.slice(a, 2 * a).reduce((s, x) => s + x, 0) / a;
        return { step, loss, auxLoss, lr, gradNorm: values[2 * a], tokens, flops, stepSeconds: queuedSeconds, ffnMetrics: averageFfnMetrics(microMetrics) };
      },
      dispose: () => {
        tf.dispose(held);
        for (const d of deviceMetrics) for (const layers of Object.values(d)) tf.dispose(Object.values(layers));
      },
    };
  }

  /**
   * One optimizer step, its numbers read without blocking: step() where the host reads tensors
   * directly, else stepDeferred() read at once (one wait for the device per step).
   */
  async stepAsync(): Promise<StepMetrics> {
    if (!readsAreAsync()) return this.step();
    const started = performance.now();
    const m = await this.stepDeferred().read();
    return { ...m, stepSeconds: (performance.now() - started) / 1000 };
  }

  /** Mean cross-entropy (nats/token) on fixed windows of the held-out split, read without blocking. */
  async evaluateAsync(): Promise<number> {
    if (!readsAreAsync()) return this.evaluate();
    const { batchSize, seqLen, evalBatches: n } = this.options;
    const batches = evalBatches(this.valIds, batchSize, seqLen, n);
    const { loss, batchLosses } = await evaluateLoss(this.config, this.vars, batches, batchSize, seqLen);
    const bad = batchLosses.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      await prefetchToHost(Object.values(this.vars));
      throw onHost(() => this.nonFiniteEval(batchLosses[bad], batches[bad].inputs));
    }
    return loss;
  }

  /** Mean cross-entropy (nats/token) on fixed windows of the held-out split; a non-finite one is an error naming where it came from. */
  evaluate(): number {
    const { batchSize, seqLen, evalBatches: n } = this.options;
    const batches = evalBatches(this.valIds, batchSize, seqLen, n);
    let sum = 0;
    for (const b of batches) {
      const loss = tf.tidy(() => {
        const inputs = tf.tensor2d(b.inputs, [batchSize, seqLen], 'int32');
        const targets = tf.tensor2d(b.targets, [batchSize, seqLen], 'int32');
        return this.lossOf(inputs, targets).ce.dataSync()[0];
      });
      if (!Number.isFinite(loss)) throw this.nonFiniteEval(loss, b.inputs);
      sum += loss;
    }
    return sum / batches.length;
  }

  private nonFiniteEval(loss: number, inputs: Int32Array): UserError {
    const step = this.state.step;
    // After a training step, weights gone non-finite mean that step diverged (its loss was still finite).
    const cause = [this.diagnose(inputs), step > 0 ? `step ${step} diverged: lower the learning rate or check the data` : undefined].filter(Boolean).join('; ');
    return new UserError(`eval loss at step ${step}: expected a finite number, found ${loss}${cause ? ` (${cause})` : ''}`);
  }

  /**
   * Swaps in a new model mid-run (a growth step): new config, params and optimizer moments in the
   * new shapes. Step, tokens, FLOPs so far and the data position carry over.
   */
  replaceModel(config: ModelConfig, params: Params, optimizerState?: Record<string, tf.Tensor>): void {
    checkParams(config, params, 'params'); // before anything is disposed, so a bad model leaves this one running
    for (const v of Object.values(this.vars)) v.dispose();
    for (const k of Object.keys(this.vars)) delete this.vars[k];
    this.adopt(config, params);
    const step = this.optimizer.step;
    this.optimizer.dispose();
    if (optimizerState) this.optimizer.loadState(optimizerState, step);
    else this.optimizer.step = step;
    this.flopsPerStep = this.computeFlopsPerStep();
    this.lrScale = {};
  }

  /**
   * Replaces the model by what `transform` makes of it and its AdamW moments (a growth), keeping step,
   * tokens, FLOPs and the data position. The weights and moments are read to the host first (one
   * asynchronous read on a GPU backend) and the transform runs as host work (host.ts), so a technique's
   * in-memory transform works on any backend; what it returns is copied in, then disposed.
   */
  async transformModel<T extends { config: ModelConfig; params: Params; optimizer?: Record<string, tf.Tensor> }>(
    transform: (config: ModelConfig, params: Params, optimizerState: Record<string, tf.Tensor>) => T,
  ): Promise<T> {
    const moments = this.optimizer.stateTensors();
    await prefetchToHost([...Object.values(this.vars), ...Object.values(moments)]);
    const out = onHost(() => transform(this.config, this.vars, moments));
    try {
      this.replaceModel(out.config, out.params, out.optimizer);
    } finally {
      tf.dispose([...Object.values(out.params), ...Object.values(out.optimizer ?? {})]);
    }
    return out;
  }

  /** One AdamW update, weights grouped by LR multiplier (one group, the plain update, without lrScale). */
  private applyUpdate(grads: Record<string, tf.Tensor>, lr: number): void {
    const groups = new Map<number, Record<string, tf.Variable>>();
    for (const [name, v] of Object.entries(this.vars)) {
      const scale = this.lrScale[name] ?? 1;
      if (!groups.has(scale)) groups.set(scale, {});
      groups.get(scale)![name] = v;
    }
    const step = this.optimizer.step;
    for (const [scale, vars] of groups) {
      this.optimizer.step = step; // each group is the same optimizer step (bias correction)
      this.optimizer.apply(vars, grads, lr * scale);
    }
  }

  dispose(): void {
    for (const v of Object.values(this.vars)) v.dispose();
    this.optimizer.dispose();
  }
}
