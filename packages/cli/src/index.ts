export { runCli, buildProgram } from './program.js';
