import { runCli } from './program.js';

const code = await runCli(process.argv);
// A failed command has nothing left to do: exit now, even if something it started (a timer, a worker)
// would keep the event loop alive. Success lets pending output drain.
if (code !== 0) process.exit(code);
process.exitCode = code;
