/** An environment variable, or undefined where there is no `process` (a browser). */
export function envVar(name: string): string | undefined {
  return globalThis.process?.env?.[name];
}
