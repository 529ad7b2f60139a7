import { runCli } from './program.js';

// A reader that stops early (`efficientscale --help | head -1`) closes the pipe; what is left to print has
// no one to read it, which is no failure: end quietly (exit 0) instead of an unhandled EPIPE stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(0);
  });
}

const code = await runCli(process.argv);
// A failed command has nothing left to do: exit now, even if something it started (a timer, a worker)
// would keep the event loop alive. Success lets pending output drain.
if (code !== 0) process.exit(code);
process.exitCode = code;
