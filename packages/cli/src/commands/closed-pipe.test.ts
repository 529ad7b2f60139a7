import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BIN } from './spawn-cli.js';

/** Runs `efficientscale ...args | reader` in bash; returns the CLI's exit status and what it printed on stderr. */
function piped(args: string, reader: string): { status: number; stderr: string } {
  if (!fs.existsSync(BIN)) throw new Error(`${BIN} is missing: run pnpm build first`);
  const script = `"${process.execPath}" "${BIN}" ${args} 2>cli.err | ${reader}; echo "status=\${PIPESTATUS[0]}"; cat cli.err`;
  const dir = fs.mkdtempSync('/tmp/es-closed-pipe-');
  try {
    const r = spawnSync('bash', ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    const status = Number(/status=(\d+)/.exec(r.stdout)?.[1]);
    return { status, stderr: r.stdout.slice(r.stdout.indexOf('status=')).replace(/^status=\d+\n?/, '') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('a reader that closes the pipe early', () => {
  // `true` exits without reading, before node has started: every write of the help meets a closed pipe.
  it('efficientscale --help | true exits 0 without a stack trace', () => {
    const r = piped('--help', 'true');
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.status).toBe(0);
  });

  it('efficientscale --help | head -1 exits 0, 3 of 3 runs', () => {
    for (let run = 0; run < 3; run++) {
      const r = piped('--help', 'head -1 >/dev/null');
      expect(r.stderr).not.toMatch(/EPIPE|Error/);
      expect(r.status).toBe(0);
    }
  });
});
