export declare function blasConfig():
  | { ok: true; include: string; libDirs: string[]; lib: string; libFlags: string[]; name: string }
  | { ok: false; reason: string };
