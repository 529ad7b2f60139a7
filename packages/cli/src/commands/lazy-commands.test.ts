import { describe, expect, it } from 'vitest';
import { buildProgram, SCALING_LAW_COMMANDS, subcommandOf } from '../program.js';
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
