/**
 * The model on the page: one Trainer on the webgpu backend, trained in chunks of steps, grown or upcycled
 * in place through core's in-memory plan runner (moments carried), and turned into checkpoint files.
 * Every read from the GPU is asynchronous (stepDeferred, prefetchToHost, logitGapAsync): no dataSync.
 */
import { getPreset, logitGapAsync, modelFiles, prefetchToHost, splitTrainVal, tf, transformInMemory, Trainer, type LogitGap, type ModelConfig, type Params, type StepMetrics, type Tokenizer, type TrainerOptions, type TransformPlan } from '@efficientscale/core';
import { planGrow } from '@efficientscale/progressive';
import { planUpcycle } from '@efficientscale/moe';

export interface TrainSettings {
  batchSize: number;
  seqLen: number;
  lr: number;
}

export interface StepPoint {
  /** Steps since the model was made, across every training chunk and transform. */
  step: number;
  loss: number;
  tokensPerSecond: number;
}

const VAL_FRACTION = 0.05;
const tiny = getPreset('tiny').spec.trainer;

const countParams = (params: Params) => Object.values(params).reduce((n, t) => n + t.size, 0);

export class ModelSession {
  private trainer?: Trainer;
  private pending: { config: ModelConfig; params: Params } | undefined;
  /** Steps taken before the current trainer was made (the chart's x axis keeps counting). */
  private stepsBefore = 0;
  private chunks = 0;
  stopRequested = false;

  constructor(
    config: ModelConfig,
    params: Params,
    readonly tokenizer: Tokenizer,
    /** A loaded checkpoint's tokenizer files, carried into the download as they are. */
    private readonly tokenizerFileSet?: Record<string, string>,
  ) {
    this.pending = { config, params };
  }

  get config(): ModelConfig {
    return this.trainer?.config ?? this.pending!.config;
  }

  get params(): Params {
    return this.trainer?.params ?? this.pending!.params;
  }

  get steps(): number {
    return this.stepsBefore + (this.trainer?.state.step ?? 0);
  }

  get parameterCount(): number {
    return countParams(this.params);
  }

  /** A trainer for these settings, starting from the current weights and AdamW moments (and Adam step). */
  private trainerFor(text: string, s: TrainSettings): Trainer {
    const ids = this.tokenizer.encode(text);
    const { train, val } = splitTrainVal(ids, VAL_FRACTION);
    const needed = s.seqLen + 1;
    if (train.length < needed || val.length < needed) {
      throw new Error(`training text: expected at least ${Math.ceil(needed / (1 - VAL_FRACTION) / VAL_FRACTION)} tokens for sequences of ${s.seqLen}, found ${ids.length}`);
    }
    const options: TrainerOptions = {
      batchSize: s.batchSize,
      seqLen: s.seqLen,
      accumulation: 1,
      // The first chunk warms up; later chunks (and a grown model) continue at the set rate.
      schedule: { kind: 'constant', lr: s.lr, warmup: this.steps === 0 ? 10 : 0 },
      adamw: tiny.adamw,
      clipNorm: tiny.clipNorm,
      seed: this.chunks++,
      evalBatches: 2,
    };
    const old = this.trainer;
    if (!old) {
      const { config, params } = this.pending!;
      const trainer = Trainer.fromWeights(config, params, train, val, options);
      tf.dispose(Object.values(params));
      this.pending = undefined;
      return trainer;
    }
    const trainer = Trainer.fromWeights(old.config, old.params, train, val, options, old.optimizer.stateTensors(), old.optimizer.step);
    this.stepsBefore += old.state.step;
    old.dispose();
    return trainer;
  }

  /**
   * Trains `steps` steps, one step queued ahead of the one being read so the GPU never waits for the
   * host; `onStep` gets each step's loss as it is read. Stops early when stopRequested is set.
   */
  async train(text: string, settings: TrainSettings, steps: number, onStep: (p: StepPoint) => void): Promise<StepMetrics | undefined> {
    this.trainer = this.trainerFor(text, settings);
    this.stopRequested = false;
    const trainer = this.trainer;
    const tokensPerStep = settings.batchSize * settings.seqLen;
    let last: StepMetrics | undefined;
    let queued = trainer.stepDeferred();
    let queuedAt = performance.now();
    for (let i = 1; i <= steps; i++) {
      const current = queued;
      const startedAt = queuedAt;
      const more = i < steps && !this.stopRequested;
      if (more) {
        queued = trainer.stepDeferred();
        queuedAt = performance.now();
      }
      try {
        last = await current.read();
      } catch (err) {
        if (more) queued.dispose();
        throw err;
      }
      const seconds = (performance.now() - startedAt) / 1000;
      onStep({ step: this.stepsBefore + last.step, loss: last.loss, tokensPerSecond: tokensPerStep / seconds });
      // Let the page paint between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
      if (!more) break;
    }
    return last;
  }

  /** Held-out loss of the current model (the last training text's split). */
  async evaluate(): Promise<number | undefined> {
    return this.trainer?.evaluateAsync();
  }

  /** Lossless width growth to `hidden`, then zero-initialised new layers up to `layers`: the function is kept. */
  grow(hidden: number, layers: number): Promise<LogitGap> {
    const config = this.config;
    return this.transform(
      planGrow(config, {
        ...(hidden !== config.hidden_size ? { hidden, widthMethod: 'lossless' as const } : {}),
        ...(layers !== config.num_hidden_layers ? { layers, depthMethod: 'zero' as const } : {}),
      }),
    );
  }

  /** Sparse upcycling: every FFN copied into `experts` experts, `topK` per token, routers random. */
  upcycle(experts: number, topK: number): Promise<LogitGap> {
    return this.transform(planUpcycle(this.config, { experts, topK, routerInit: 'random', seed: 0 }));
  }

  /** Runs a plan on the current weights and AdamW moments and swaps the result in; returns the logit gap it measured. */
  private async transform(plan: TransformPlan<object>): Promise<LogitGap> {
    const before = { config: this.config, params: this.params };
    const optimizer = this.trainer?.optimizer.stateTensors();
    // The plan reads weights synchronously: bring them to the host first, in one asynchronous round trip.
    await prefetchToHost([...Object.values(before.params), ...Object.values(optimizer ?? {})]);
    const out = transformInMemory(plan, before.params, { sourceConfig: before.config, optimizer, probe: false });
    let gap: LogitGap;
    try {
      gap = await logitGapAsync(before, { config: out.config, params: out.params });
    } catch (err) {
      tf.dispose([...Object.values(out.params), ...Object.values(out.optimizer ?? {})]);
      throw err;
    }
    if (this.trainer) {
      this.trainer.replaceModel(out.config, out.params, out.optimizer);
      tf.dispose([...Object.values(out.params), ...Object.values(out.optimizer ?? {})]);
    } else {
      tf.dispose(Object.values(this.pending!.params));
      this.pending = { config: out.config, params: out.params };
    }
    return gap;
  }

  /** The model as the files of a Hugging Face checkpoint directory (what core's checkpoint writer writes). */
  async files(): Promise<Record<string, Uint8Array | string>> {
    await prefetchToHost(Object.values(this.params));
    return modelFiles(this.config, this.params, this.tokenizerFileSet ?? this.tokenizer);
  }

  dispose(): void {
    this.trainer?.dispose();
    if (this.pending) tf.dispose(Object.values(this.pending.params));
  }
}
