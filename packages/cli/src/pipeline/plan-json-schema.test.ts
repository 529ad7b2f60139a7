import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parsePlan, planSchema } from './plan.js';

// The shipped JSON Schema of pipeline plans, generated from the zod schema that validates them; plans/*.json
// name it in "$schema" so editors complete and check them. UPDATE_SCHEMAS=1 rewrites the file; otherwise the
// test fails when it is stale.
const here = path.dirname(fileURLToPath(import.meta.url));
const file = path.join(here, '../../schemas/plan.schema.json');
const plansDir = path.join(here, '../../../../plans');

describe('schemas/plan.schema.json', () => {
  it('is generated from planSchema', () => {
    const generated = {
      $id: 'https://efficientscale.dev/schemas/plan.schema.json',
      title: 'EfficientScale pipeline plan (efficientscale pipeline PLAN.json)',
      ...z.toJSONSchema(planSchema, { io: 'input', unrepresentable: 'any' }),
    };
    const text = `${JSON.stringify(generated, null, 2)}\n`;
    if (process.env.UPDATE_SCHEMAS) fs.writeFileSync(file, text);
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '', 'stale: run UPDATE_SCHEMAS=1 pnpm vitest run packages/cli/src/pipeline/plan-json-schema.test.ts').toBe(text);
  });

  it('every plan in plans/ names it in $schema and still parses', () => {
    for (const name of fs.readdirSync(plansDir).filter((f) => f.endsWith('.json'))) {
      const json = JSON.parse(fs.readFileSync(path.join(plansDir, name), 'utf8'));
      expect(json.$schema, name).toBe('../packages/cli/schemas/plan.schema.json');
      expect(() => parsePlan(json, name, plansDir), name).not.toThrow();
    }
  });
});
