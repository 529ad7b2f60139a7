/** The command template of a train stage run by an external trainer: its fields and how they are filled in. */

/** The fields a trainer's command (and log path) may name, each in braces. */
export const TRAINER_FIELDS = ['input', 'output', 'steps', 'tokens', 'lr'] as const;
type TrainerField = (typeof TRAINER_FIELDS)[number];

/** A field: a name in braces (a shell's `${NAME}` is left to the shell). */
const FIELD = /(?<!\$)\{([A-Za-z_]\w*)\}/g;

/** The fields in `template` that are not trainer fields. */
export function unknownFields(template: string): string[] {
  return [...template.matchAll(FIELD)].map((m) => m[1]).filter((f) => !(TRAINER_FIELDS as readonly string[]).includes(f));
}

/** A value as one shell word (paths may hold spaces). */
const shellWord = (v: string) => (/^[\w@%+=:,./-]+$/.test(v) ? v : `'${v.replace(/'/g, `'\\''`)}'`);

/** The template with its fields filled in, each value one shell word (`quote`; a path to read is filled in as it is). */
export function fillTemplate(template: string, values: Record<TrainerField, string | number>, quote = true): string {
  return template.replace(FIELD, (_, f: TrainerField) => (quote ? shellWord(String(values[f])) : String(values[f])));
}
