#!/usr/bin/env node
/**
 * kill -9 trials for `efficientscale train`: each trial starts the built CLI on a tiny run with
 * frequent checkpoints, SIGKILLs it at a random moment (and, in half the trials, kills the resume
 * too), resumes until the run completes, and checks what a user would rely on:
 *   - the checkpoint left after every kill loads (config, weights, optimizer state, trainer state);
 *   - the resumed run completes;
 *   - metrics.jsonl holds each step 1..N exactly once, with the same loss as an uninterrupted run;
 *   - the final model.safetensors and optimizer.safetensors are byte-identical to an uninterrupted
 *     run with the same seed.
 * A kill before the first checkpoint leaves nothing to resume: the trial checks that `train --out`
 * then refuses the directory in one line, and starts over in a fresh one.
 *
 *   pnpm exec nx run cli:build   # the trials run packages/cli/dist/bin.js
 *   node tools/kill-trials.mjs [--trials 30] [--steps 8] [--seed 1] [--keep]
 *
 * Prints one line per trial and a summary; exits 1 when any check failed.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = path.join(root, 'packages/cli/dist/bin.js');
const coreDist = path.join(root, 'packages/core/dist/node.js');

function parseArgs(argv) {
  const o = { trials: 30, steps: 8, seed: 1, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--keep') o.keep = true;
    else if (['--trials', '--steps', '--seed'].includes(a)) {
      const v = Number(argv[++i]);
      if (!Number.isSafeInteger(v) || v < (a === '--seed' ? 0 : 1)) throw new Error(`${a}: expected a positive integer, found ${argv[i]}`);
      o[a.slice(2)] = v;
    } else throw new Error(`unknown argument ${a} (expected --trials N, --steps N, --seed N, --keep)`);
  }
  return o;
}

/** mulberry32: a small seeded generator, so a trial's kill times can be replayed. */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** Runs the CLI; with `killAfterMs`, SIGKILLs it then (unless it finished first). */
function runCli(args, killAfterMs) {
  return new Promise((resolve) => {
    const started = performance.now();
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
}

const { loadCheckpointFiles, validateConfig, checkParams, checkTrainerState } = await import(coreDist).catch(() => {
  throw new Error(`${coreDist}: expected the built core package, found none (run pnpm exec nx run cli:build)`);
});

/** Loads every checkpoint directory in a run dir as resume would; returns problems found. */
function checkCheckpoints(dir) {
  const problems = [];
  const names = fs.existsSync(dir) ? fs.readdirSync(dir) : [];
  for (const name of names.filter((n) => n === 'checkpoint' || n.startsWith('checkpoint.'))) {
    if (name !== 'checkpoint') continue; // leftovers of an interrupted save; resume repairs them
    const ckpt = path.join(dir, name);
    try {
      const files = loadCheckpointFiles(ckpt);
      const config = validateConfig(files.config, `${ckpt}/config.json`);
      checkParams(config, files.params, `${ckpt}/model.safetensors`);
      if (!files.optimizer) throw new Error('no optimizer.safetensors');
      checkTrainerState(files.trainerState, `${ckpt}/trainer_state.json`);
    } catch (err) {
      problems.push(`${name} does not load: ${err.message}`);
    }
  }
  return problems;
}

/** step → loss of every record in metrics.jsonl, and the problems with it. */
function readMetrics(dir, steps) {
  const file = path.join(dir, 'metrics.jsonl');
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
  const seen = new Map();
  let duplicates = 0;
  const problems = [];
  for (const line of lines) {
    let record;
    try {
      record = JSON.parse(line);
    } catch {
      problems.push(`torn metrics line ${JSON.stringify(line.slice(0, 40))}`);
      continue;
    }
    if (seen.has(record.step)) duplicates++;
    seen.set(record.step, record.loss);
  }
  if (duplicates > 0) problems.push(`${duplicates} duplicate step records`);
  const missing = Array.from({ length: steps }, (_, i) => i + 1).filter((s) => !seen.has(s));
  if (missing.length > 0) problems.push(`steps missing from metrics.jsonl: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`);
  const extra = [...seen.keys()].filter((s) => !(s >= 1 && s <= steps));
  if (extra.length > 0) problems.push(`unexpected steps in metrics.jsonl: ${extra.slice(0, 5).join(', ')}`);
  return { losses: seen, duplicates, records: lines.length, problems };
}

const sameBytes = (a, b) => fs.existsSync(a) && fs.existsSync(b) && Buffer.compare(fs.readFileSync(a), fs.readFileSync(b)) === 0;

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(bin)) throw new Error(`${bin}: expected the built CLI, found none (run pnpm exec nx run cli:build)`);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'kill-trials-'));
  const corpus = path.join(work, 'corpus.txt');
  // A small corpus keeps each start-up short, so most of a run's time is training and saving.
  const words = ['the', 'model', 'learns', 'a', 'small', 'corpus', 'again', 'and', 'kill', 'resume', 'step', 'loss'];
  const r0 = rng(12345);
  fs.writeFileSync(corpus, Array.from({ length: 6000 }, () => words[Math.floor(r0() * words.length)]).join(' '));
  // checkpointEvery = steps / 4 (train's rule); the tiny preset at batch 2 × seq 16 on the cpu backend.
  const common = ['--corpus', corpus, '--backend', 'cpu', '--json'];
  const fresh = (out) => ['train', '--preset', 'tiny', '--steps', String(o.steps), '--batch', '2', '--seq', '16', '--seed', String(o.seed), '--out', out, ...common];
  const resume = (out) => ['train', '--resume', out, ...common];

  const started = performance.now();
  const random = rng(o.seed * 7919 + 1);
  const refDir = path.join(work, 'reference');
  const ref = await runCli(fresh(refDir));
  if (ref.code !== 0) throw new Error(`reference run failed: ${ref.stderr.trim()}`);
  const refMetrics = readMetrics(refDir, o.steps);
  if (refMetrics.problems.length) throw new Error(`reference run: ${refMetrics.problems.join('; ')}`);
  // Start-up (loading tfjs, tokenizing) takes seconds before the first step; most kills should land in training.
  const trainMs = Math.min(ref.ms, JSON.parse(ref.stdout).wall_s * 1000);
  const startupMs = ref.ms - trainMs;
  console.log(`reference: ${o.steps} steps in ${(ref.ms / 1000).toFixed(1)} s, ${(startupMs / 1000).toFixed(1)} s of it start-up (work dir ${work})`);
  /** A kill moment: 1 in 5 anywhere in the run, the others during its training steps and saves. */
  const killMoment = () => (random() < 0.2 ? random() * ref.ms : startupMs + random() * trainMs);

  const tally = { ok: 0, failed: 0, kills: 0, beforeFirstCheckpoint: 0, finishedBeforeKill: 0, resumes: 0, staleRecordsCut: 0, duplicates: 0 };
  for (let trial = 1; trial <= o.trials; trial++) {
    const dir = path.join(work, `trial-${trial}`);
    const problems = [];
    const events = [];
    // Up to two kills: the first run, and in half the trials the first resume too.
    const killTimes = [killMoment(), ...(random() < 0.5 ? [killMoment()] : [])];
    let result = await runCli(fresh(dir), killTimes[0]);
    let kills = 0;
    let attempt = 0;
    while (result.code !== 0) {
      if (result.signal !== 'SIGKILL') {
        problems.push(`exited with ${result.code}: ${result.stderr.trim().split('\n').pop()}`);
        break;
      }
      kills++;
      tally.kills++;
      const hasCheckpoint = fs.existsSync(path.join(dir, 'checkpoint', 'config.json'));
      const stale = readMetrics(dir, o.steps);
      const lastSaved = hasCheckpoint ? JSON.parse(fs.readFileSync(path.join(dir, 'checkpoint', 'trainer_state.json'), 'utf8')).step : 0;
      const staleRecords = [...stale.losses.keys()].filter((s) => s > lastSaved).length;
      tally.staleRecordsCut += staleRecords;
      events.push(`killed at ${(result.ms / 1000).toFixed(2)} s (checkpoint step ${lastSaved}, ${staleRecords} records past it)`);
      problems.push(...checkCheckpoints(dir));
      attempt++;
      if (attempt > 4) {
        problems.push('more than 4 restarts');
        break;
      }
      if (!hasCheckpoint) {
        tally.beforeFirstCheckpoint++;
        if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
          const refused = await runCli(fresh(dir).filter((a) => a !== '--json'));
          const lines = refused.stderr.trim().split('\n').filter((l) => !l.startsWith('backend:'));
          if (refused.code === 0 || lines.length !== 1 || !/expected a new or empty run directory/.test(lines[0])) {
            problems.push(`train --out on the killed dir without a checkpoint was not refused in one line: ${refused.stderr.trim()}`);
            break;
          }
          fs.rmSync(dir, { recursive: true, force: true });
        }
        result = await runCli(fresh(dir), killTimes[attempt]);
      } else {
        tally.resumes++;
        result = await runCli(resume(dir), killTimes[attempt]);
      }
    }
    if (kills === 0) tally.finishedBeforeKill++;
    if (result.code === 0) {
      problems.push(...checkCheckpoints(dir));
      const m = readMetrics(dir, o.steps);
      tally.duplicates += m.duplicates;
      problems.push(...m.problems);
      const lossDiffers = [...refMetrics.losses].filter(([s, loss]) => m.losses.has(s) && m.losses.get(s) !== loss).map(([s]) => s);
      if (lossDiffers.length) problems.push(`loss differs from the uninterrupted run at steps ${lossDiffers.slice(0, 5).join(', ')}`);
      for (const f of ['model.safetensors', 'optimizer.safetensors']) {
        if (!sameBytes(path.join(dir, 'checkpoint', f), path.join(refDir, 'checkpoint', f))) problems.push(`final ${f} differs from the uninterrupted run`);
      }
    }
    if (problems.length) tally.failed++;
    else tally.ok++;
    console.log(`trial ${trial}: ${problems.length ? 'FAIL' : 'ok'}: ${events.join('; ') || 'finished before the kill'}${problems.length ? ` | ${problems.join(' | ')}` : ''}`);
    if (!o.keep && !problems.length) fs.rmSync(dir, { recursive: true, force: true });
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `summary: ${tally.ok}/${o.trials} trials ok, ${tally.failed} failed; ${tally.kills} kills (${tally.beforeFirstCheckpoint} before the first checkpoint), ` +
      `${tally.finishedBeforeKill} trials finished before their kill, ${tally.resumes} resumes; ${tally.staleRecordsCut} records logged past the last checkpoint were cut; ` +
      `duplicate step records in the final metrics.jsonl: ${tally.duplicates}; ${seconds.toFixed(0)} s`,
  );
  if (!o.keep && tally.failed === 0) fs.rmSync(work, { recursive: true, force: true });
  process.exitCode = tally.failed === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`kill-trials: ${err.message}`);
  process.exitCode = 1;
});
