import cliProgress from 'cli-progress';
import type { Progress } from '@efficientscale/core/node';
import { DeadExpertWatch, formatExpertLoad } from '@efficientscale/moe';

const formatDuration = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
};

/**
 * A progress bar on stderr for training: step, loss, eval loss, tokens/s, ETA, and for MoE models the
 * busiest and idlest expert's share of the tokens. Without a terminal (CI, pipes) it prints a plain line
 * every few seconds instead. Warns once when an expert gets no tokens for many steps in a row.
 */
export function trainingProgress(total: number, enabled = true) {
  const bar = new cliProgress.SingleBar(
    {
      format: 'step {value}/{total} |{bar}| loss {loss} eval {evalLoss}{load} | {tps} tok/s | ETA {eta_h}',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const watch = new DeadExpertWatch();
  return {
    update(p: Progress) {
      const warning = watch.observe(p.step, p.ffnMetrics);
      if (warning) process.stderr.write(`${started && enabled ? '\n' : ''}${warning}\n`);
      if (!enabled) return;
      const load = formatExpertLoad(p.ffnMetrics);
      const payload = {
        load: load ? ` | ${load}` : '',
        loss: p.loss.toFixed(3),
        evalLoss: p.evalLoss === undefined ? '-' : p.evalLoss.toFixed(3),
        tps: Math.round(p.tokensPerSecond),
        eta_h: formatDuration(p.etaSeconds),
      };
      if (!started) {
        bar.start(p.totalSteps, p.step, payload);
        started = true;
      } else bar.update(p.step, payload);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * Progress of a transform on stderr: tensors written of the total, the last one's name, elapsed time and
 * ETA, at most one line every 2 s (a transform runs synchronously: no timer would fire), and a last line.
 */
export function tensorProgress(enabled = true) {
  const started = performance.now();
  let shown = 0;
  let last = '';
  const line = (done: number, total: number, name: string) => {
    const seconds = (performance.now() - started) / 1000;
    const eta = done > 0 ? (seconds / done) * (total - done) : NaN;
    return `tensor ${done}/${total} ${name} | ${formatDuration(seconds)} elapsed | ETA ${formatDuration(eta)}`;
  };
  return {
    update(done: number, total: number, name: string) {
      if (!enabled) return;
      last = line(done, total, name);
      const now = performance.now();
      if (now - shown < 2000 && done < total) return;
      shown = now;
      process.stderr.write(process.stderr.isTTY ? `\r${last}\x1b[K` : `${last}\n`);
    },
    stop() {
      if (enabled && shown > 0 && process.stderr.isTTY) process.stderr.write('\n');
    },
  };
}
