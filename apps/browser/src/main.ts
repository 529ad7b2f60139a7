/** Wires the page: WebGPU start-up, model choice, training with the live chart, growth, download. */
import { getPreset, initParams, tf, ByteTokenizer, type LogitGap } from '@efficientscale/core';
import { registerWebGPUBackend } from '@efficientscale/backend-webgpu';
import '@efficientscale/moe'; // registers the 'moe' FFN kind for upcycled models
import { ModelSession } from './session.js';
import { renderLossChart, type ChartMarker, type ChartPoint } from './loss-chart.js';
import { zipCheckpoint } from './checkpoint-zip.js';
import { loadCheckpoint } from './load-checkpoint.js';
import { SAMPLE_TEXT } from './sample-text.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const buttons = ['start-tiny', 'train', 'grow', 'upcycle', 'download'].map((id) => $<HTMLButtonElement>(id));
const loadInput = $<HTMLInputElement>('load-dir');
const chart = $('chart') as unknown as SVGSVGElement;
const text = $<HTMLTextAreaElement>('text');
text.value = SAMPLE_TEXT;

let session: ModelSession | undefined;
let points: ChartPoint[] = [];
let markers: ChartMarker[] = [];

function say(id: string, message: string, error = false): void {
  const el = $(id);
  el.textContent = message;
  el.classList.toggle('error', error);
}

const numberOf = (id: string) => Number($<HTMLInputElement>(id).value);

/** One action at a time: buttons off while it runs; its error (one line) goes to its status line. */
async function busy(statusId: string, action: () => Promise<void>): Promise<void> {
  document.body.dataset.busy = '1';
  for (const b of buttons) b.disabled = true;
  loadInput.disabled = true;
  $<HTMLButtonElement>('stop').disabled = statusId !== 'train-status';
  try {
    await action();
  } catch (err) {
    say(statusId, String((err as Error).message ?? err).split('\n')[0], true);
  } finally {
    $<HTMLButtonElement>('stop').disabled = true;
    $<HTMLButtonElement>('start-tiny').disabled = false;
    loadInput.disabled = false;
    for (const b of buttons.slice(1)) b.disabled = !session;
    document.body.dataset.busy = '0';
  }
}

function describeModel(): string {
  const c = session!.config;
  const experts = (c as { num_local_experts?: number }).num_local_experts;
  return `${c.num_hidden_layers} layers, hidden ${c.hidden_size}, FFN ${c.intermediate_size}${experts ? `, ${experts} experts` : ''}: ${session!.parameterCount.toLocaleString('en')} parameters, ${session!.steps} steps trained`;
}

function useSession(next: ModelSession, label: string): void {
  session?.dispose();
  session = next;
  points = [];
  markers = [];
  renderLossChart(chart, points, markers);
  say('model', `${label}: ${describeModel()}`);
}

$('start-tiny').addEventListener('click', () =>
  busy('model', async () => {
    const { config } = getPreset('tiny');
    useSession(new ModelSession(config, initParams(config, 0), new ByteTokenizer()), 'tiny preset');
  }),
);

loadInput.addEventListener('change', () =>
  busy('model', async () => {
    const loaded = await loadCheckpoint([...(loadInput.files ?? [])]);
    useSession(new ModelSession(loaded.config, loaded.params, loaded.tokenizer, loaded.tokenizerFiles), 'loaded');
  }),
);

$<HTMLInputElement>('text-file').addEventListener('change', async (e) => {
  const file = (e.target as HTMLInputElement).files?.[0];
  if (file) text.value = await file.text();
});

$('stop').addEventListener('click', () => {
  if (session) session.stopRequested = true;
});

$('train').addEventListener('click', () =>
  busy('train-status', async () => {
    const steps = numberOf('steps');
    const settings = { batchSize: numberOf('batch'), seqLen: numberOf('seq'), lr: numberOf('lr') };
    say('train-status', `training ${steps} steps…`);
    const started = performance.now();
    let done = 0;
    await session!.train(text.value, settings, steps, (p) => {
      done++;
      points.push({ step: p.step, loss: p.loss });
      renderLossChart(chart, points, markers);
      const eta = ((performance.now() - started) / 1000 / done) * (steps - done);
      say('train-status', `step ${p.step}: loss ${p.loss.toFixed(4)}, ${Math.round(p.tokensPerSecond)} tokens/s, ${done}/${steps} done, ETA ${eta.toFixed(0)} s`);
    });
    const evalLoss = await session!.evaluate();
    say('train-status', `trained ${done} step${done === 1 ? '' : 's'}: last loss ${points.at(-1)!.loss.toFixed(4)}, held-out loss ${evalLoss!.toFixed(4)}`);
    say('model', describeModel());
  }),
);

/** A growth or upcycling: swaps the model, marks the chart where it happened, says how far the logits moved. */
function transformAction(label: string, run: (s: ModelSession) => Promise<LogitGap>): () => Promise<void> {
  return () =>
    busy('transform-status', async () => {
      const gap = await run(session!);
      markers.push({ step: session!.steps, label });
      renderLossChart(chart, points, markers);
      say('transform-status', `${label}; logits moved by at most ${gap.maxAbsLogitDiff.toExponential(2)}`);
      say('model', describeModel());
    });
}

$('grow').addEventListener('click', transformAction('grown', (s) => s.grow(numberOf('grow-hidden'), numberOf('grow-layers'))));
$('upcycle').addEventListener('click', transformAction('upcycled', (s) => s.upcycle(numberOf('experts'), numberOf('top-k'))));

$('download').addEventListener('click', () =>
  busy('download-status', async () => {
    const zip = zipCheckpoint('efficientscale-model', await session!.files());
    const url = URL.createObjectURL(new Blob([zip as Uint8Array<ArrayBuffer>], { type: 'application/zip' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = 'efficientscale-model.zip';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    say('download-status', `efficientscale-model.zip: ${(zip.length / 1024).toFixed(0)} KiB (unzip, then: efficientscale eval efficientscale-model)`);
  }),
);

async function start(): Promise<void> {
  renderLossChart(chart, points, markers);
  const r = await registerWebGPUBackend();
  if (!r.ok) {
    say('backend', `WebGPU is not available: ${r.reason}`, true);
    document.body.dataset.busy = '0';
    return;
  }
  await tf.setBackend(r.name);
  await tf.ready();
  say('backend', `WebGPU on ${r.adapter.label}${r.adapter.software ? ': a software adapter, correct but slow' : ''}`);
  $<HTMLButtonElement>('start-tiny').disabled = false;
  loadInput.disabled = false;
  document.body.dataset.busy = '0';
}

void start();
