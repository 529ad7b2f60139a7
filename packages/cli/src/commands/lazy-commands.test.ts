import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram, SCALING_LAW_COMMANDS, subcommandOf } from '../program.js';
import { BIN } from './spawn-cli.js';
import { cli } from './test-util.js';

const names = (program: { commands: readonly { name(): string }[] }) => program.commands.map((c) => c.name()).sort();

describe('scaling-law commands start without the tensor commands', () => {
  it('a scaling-law command line registers exactly SCALING_LAW_COMMANDS, each also in the full program', async () => {
    const full = names(await buildProgram());
    for (const sub of SCALING_LAW_COMMANDS) {
      expect(names(await buildProgram({ args: [sub, '--help'] }))).toEqual([...SCALING_LAW_COMMANDS].sort());
      expect(full).toContain(sub);
    }
    expect(full.length).toBeGreaterThan(SCALING_LAW_COMMANDS.length);
  });

  it('the sub-command is the first word that is not a flag', () => {
    expect(subcommandOf(['--json', 'predict', 'law.json'])).toBe('predict');
    expect(subcommandOf(['--help'])).toBeUndefined();
    expect(subcommandOf(['train', 'fit'])).toBe('train');
  });

  it('top-level help still lists every command, and a typo is still suggested from all of them', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const sub of ['train', 'grow', 'predict', 'fit']) expect(help.stdout).toContain(sub);
    const typo = await cli('predcit');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('predict');
  });
});

describe('the built scaling-law commands load no tfjs', () => {
  // the scaling-law commands must work where only scaling-laws' dependencies are cheap to load
  it('predict, and fit --law annealing reading a pipeline-like folder, require no @tensorflow module', () => {
    if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
    const dir = fs.mkdtempSync('/tmp/es-no-tfjs-');
    try {
      const probe = path.join(dir, 'probe.cjs');
      fs.writeFileSync(probe, "process.on('exit', () => { const t = Object.keys(require.cache).filter((p) => p.includes('@tensorflow')); if (t.length) process.stderr.write(`tfjs loaded: ${t[0]}\\n`); });\n");
      const rows = [2e7, 6e7, 2e8, 6e8, 2e9].flatMap((N) => [5, 20, 80].map((r) => `${N},${N * r},${1.7 + 400 / N ** 0.34 + 410 / (N * r) ** 0.28}`));
      fs.writeFileSync(path.join(dir, 'points.csv'), `params,tokens,loss\n${rows.join('\n')}\n`);
      // two stages of a pipeline output: one from scratch, one continuing (read by its first record only)
      for (const [stage, first] of [['01-dense', 1], ['02-grown', 101]] as const) {
        fs.mkdirSync(path.join(dir, 'out', stage), { recursive: true });
        fs.writeFileSync(path.join(dir, 'out', stage, 'metrics.jsonl'), `${JSON.stringify({ step: first, tokens: first * 64, loss: 3, lr: 1e-3 })}\n`);
      }
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [BIN, ...args], { cwd: dir, encoding: 'utf8', timeout: 60_000, env: { ...process.env, NODE_OPTIONS: `--require ${probe}` } });
      const fit = run('fit', 'points.csv', '--out', 'law.json');
      expect(fit.status, fit.stderr).toBe(0);
      const predict = run('predict', '--law', 'law.json', '--params', '1e9', '--tokens', '2e10');
      expect(predict.status, predict.stderr).toBe(0);
      // no eval losses to fit: refused in one line, but only after reading the folder's runs
      const curve = run('fit', 'out', '--law', 'annealing');
      expect(curve.stderr).toContain('02-grown: left out');
      expect(curve.stderr).toContain('eval_loss: expected held-out losses');
      // (fit's --out checks the path with core's output rules, which do load tfjs: not asserted here)
      for (const r of [predict, curve]) expect(r.stderr).not.toContain('tfjs loaded');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
