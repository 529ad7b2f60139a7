import cliProgress from 'cli-progress';
import type { Progress } from '@efficientscale/core';

const formatDuration = (s: number) => {
  if (!Number.isFinite(s)) return '?';
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`;
};

/**
 * A progress bar on stderr for training: step, loss, eval loss, tokens/s, ETA. Without a terminal
 * (CI, pipes) it prints a plain line every few seconds instead.
 */
export function trainingProgress(total: number, enabled = true) {
  const bar = new cliProgress.SingleBar(
    {
      format: 'step {value}/{total} |{bar}| loss {loss} eval {evalLoss} | {tps} tok/s | ETA {eta_h}',
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 5000,
      hideCursor: true,
      barsize: 24,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p: Progress) {
      if (!enabled) return;
      const payload = {
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
