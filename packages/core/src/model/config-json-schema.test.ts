import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from './config-schema.js';

// The shipped JSON Schema of config.json, generated from the zod schema that validates it (editors complete
// and check configs with it). UPDATE_SCHEMAS=1 rewrites the file; otherwise the test fails when it is stale.
const file = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../schemas/config.schema.json');

describe('schemas/config.schema.json', () => {
  it('is generated from configSchema', () => {
    const generated = {
      $id: 'https://efficientscale.dev/schemas/config.schema.json',
      title: 'EfficientScale model config.json (a Hugging Face Llama/Mixtral config)',
      ...z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }),
    };
    const text = `${JSON.stringify(generated, null, 2)}\n`;
    if (process.env.UPDATE_SCHEMAS) fs.writeFileSync(file, text);
    expect(fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '', 'stale: run UPDATE_SCHEMAS=1 pnpm vitest run packages/core/src/model/config-json-schema.test.ts').toBe(text);
  });
});
