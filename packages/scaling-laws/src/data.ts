import { mismatch, ScalingLawError } from './errors.js';
import { jsonlObjects } from './jsonl.js';
import type { Point } from './points.js';

/**
 * Parsing of observations from CSV and JSONL text. Recognised inputs:
 * - generic tables with `params`, `tokens` (or `flops`, then D = C / 6N) and `loss`, optional `model`,
 *   `family` and `unique_tokens` (for repeated data; header names case insensitive; Epoch AI's Chinchilla columns `Model Size` and
 *   `Training FLOP` are understood as params and flops);
 * - the `metrics.jsonl` our training writes (`step, tokens, flops, loss`, `params` or the `params` option);
 * - the GPT-3 curves and OPT trajectories released with "A Hitchhiker's Guide to Scaling Law Estimation".
 * Every error is one line naming the row, what was expected and what was found.
 */
export interface ParseOptions {
  /** Parameter count for rows that have none (metrics.jsonl of a single run). */
  params?: number;
  /** Model name for rows that have none; defaults to the source name. */
  model?: string;
  /** Family for rows that have none. */
  family?: string;
  /**
   * GPT-3 curves: which digitised curve to read ('train_loss' default, or 'val_loss'). JSONL (a run's
   * metrics.jsonl): 'eval_loss' or 'val_loss' reads the held-out loss, keeping only the lines that have it.
   */
  lossColumn?: string;
}

/** GPT-3 parameter counts by model name, from Brown et al. 2020, Table 2.1. */
export const GPT3_PARAMS: Readonly<Record<string, number>> = {
  small: 125e6,
  medium: 350e6,
  large: 760e6,
  xl: 1.3e9,
  '2.7b': 2.7e9,
  '6.7b': 6.7e9,
  '13b': 13e9,
  '175b': 175e9,
};

const ALIASES: Record<string, string> = {
  params: 'params',
  parameters: 'params',
  n: 'params',
  num_params: 'params',
  n_params: 'params',
  'model size': 'params',
  tokens: 'tokens',
  d: 'tokens',
  num_tokens: 'tokens',
  tokens_seen: 'tokens',
  flops: 'flops',
  'training flop': 'flops',
  'training flops': 'flops',
  compute: 'flops',
  loss: 'loss',
  unique_tokens: 'uniqueTokens',
  'unique tokens': 'uniqueTokens',
  uniquetokens: 'uniqueTokens',
  model: 'model',
  family: 'family',
};

type Row = Record<string, string | number | null | undefined>;

/** Splits CSV text into rows of fields (RFC 4180 quoting), skipping blank lines; returns 1-based line numbers. */
export function splitCsv(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let line = 1;
  let rowLine = 1;
  const endRow = () => {
    fields.push(field);
    if (fields.length > 1 || fields[0].trim() !== '') rows.push({ line: rowLine, fields });
    fields = [];
    field = '';
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else {
        if (c === '\n') line++;
        field += c;
      }
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      endRow();
      line++;
      rowLine = line;
    } else field += c;
  }
  if (field !== '' || fields.length) endRow();
  return rows;
}

function normaliseKey(key: string): string {
  return key.trim().toLowerCase().replace(/\s+/g, ' ');
}

/** A finite number from a cell, or undefined when the cell is empty. Throws naming the row otherwise. */
function numberCell(row: Row, key: string, where: string, required: boolean): number | undefined {
  const v = row[key];
  if (v === undefined || v === null || (typeof v === 'string' && v.trim() === '')) {
    if (required) throw mismatch(`${where}: ${key}`, 'a number', 'nothing');
    return undefined;
  }
  const x = typeof v === 'number' ? v : Number(v.trim());
  if (typeof v === 'string' && !/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v.trim())) {
    throw mismatch(`${where}: ${key}`, 'a number', JSON.stringify(v));
  }
  if (!Number.isFinite(x) || x <= 0) throw mismatch(`${where}: ${key}`, 'a positive finite number', String(v));
  return x;
}

/** Parses a size such as `125m`, `1.3b` or `175B` into a parameter count. */
export function parseSize(size: string, where: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmbt])$/i.exec(size.trim());
  if (!m) throw mismatch(`${where}: model size`, 'a size such as 125m or 1.3b', JSON.stringify(size));
  const scale = { k: 1e3, m: 1e6, b: 1e9, t: 1e12 }[m[2].toLowerCase() as 'k' | 'm' | 'b' | 't'];
  return Number(m[1]) * scale;
}

/** One generic row (keys already normalised to params/tokens/flops/loss/model/family). */
function genericPoint(row: Row, where: string, source: string, options: ParseOptions): Point {
  const params = numberCell(row, 'params', where, options.params === undefined) ?? options.params!;
  if (!(params > 0)) throw mismatch(`${where}: params`, 'a positive finite number', String(params));
  let tokens = numberCell(row, 'tokens', where, false);
  if (tokens === undefined) {
    const flops = numberCell(row, 'flops', where, false);
    if (flops === undefined) throw mismatch(`${where}: tokens`, 'a number (or flops, giving tokens = flops / 6 params)', 'nothing');
    tokens = flops / (6 * params);
  }
  const loss = numberCell(row, 'loss', where, true)!;
  const uniqueTokens = numberCell(row, 'uniqueTokens', where, false);
  const model = row.model == null || row.model === '' ? (options.model ?? (row.params == null ? source : undefined)) : String(row.model);
  const family = row.family == null || row.family === '' ? options.family : String(row.family);
  return {
    params,
    tokens,
    loss,
    where,
    ...(uniqueTokens !== undefined ? { uniqueTokens } : {}),
    ...(model !== undefined ? { model } : {}),
    ...(family !== undefined ? { family } : {}),
  };
}

function aliasRow(raw: Row): Row {
  const out: Row = {};
  for (const [k, v] of Object.entries(raw)) {
    const key = normaliseKey(k);
    out[ALIASES[key] ?? key] = v;
  }
  return out;
}

/** Parses CSV text (generic, GPT-3 curves or OPT trajectories, detected from the header). */
export function parseCsv(text: string, source: string, options: ParseOptions = {}): Point[] {
  const rows = splitCsv(text);
  if (rows.length < 2) throw mismatch(`${source}`, 'a header and at least one row', `${rows.length} line(s)`);
  const header = rows[0].fields.map(normaliseKey);
  const has = (...keys: string[]) => keys.every((k) => header.includes(k));
  const records = rows.slice(1).map(({ line, fields }) => {
    if (fields.length !== header.length) {
      throw mismatch(`${source} row ${line}`, `${header.length} fields`, `${fields.length}`);
    }
    const row: Row = {};
    header.forEach((h, i) => (row[h] = fields[i]));
    return { where: `${source} row ${line}`, row };
  });

  if (has('model', 'step', 'train_loss', 'val_loss')) {
    const column = options.lossColumn ?? 'train_loss';
    if (!header.includes(column)) throw mismatch(`${source}: loss column`, 'train_loss or val_loss', JSON.stringify(column));
    const points: Point[] = [];
    for (const { where, row } of records) {
      const name = String(row.model).trim().toLowerCase();
      const params = GPT3_PARAMS[name];
      if (params === undefined) throw mismatch(`${where}: model`, `one of ${Object.keys(GPT3_PARAMS).join(', ')}`, JSON.stringify(row.model));
      const loss = numberCell(row, column, where, false);
      if (loss === undefined) continue; // each digitised point lies on either the train or the validation curve
      const tokens = numberCell(row, 'step', where, true)! * 1e9; // `step` is billions of tokens
      points.push({ params, tokens, loss, model: `GPT-3 ${name}`, family: 'GPT-3', where });
    }
    return points;
  }
  if (has('model_name', 'model_size', 'num_token', 'ppl')) {
    return records.map(({ where, row }) => {
      const params = parseSize(String(row.model_size), where);
      const logTokens = Number(row.num_token); // log10 of tokens
      if (!Number.isFinite(logTokens)) throw mismatch(`${where}: num_token`, 'log10 of a token count', String(row.num_token));
      const ppl = numberCell(row, 'ppl', where, true)!;
      const family = String(row.model_name);
      return { params, tokens: 10 ** logTokens, loss: Math.log(ppl), model: `${family}-${row.model_size}`, family, where };
    });
  }
  const aliased = header.map((h) => ALIASES[h] ?? h);
  for (const need of ['params', 'loss']) {
    if (!aliased.includes(need) && !(need === 'params' && options.params !== undefined)) {
      throw mismatch(`${source}: header`, 'columns params, tokens (or flops) and loss', rows[0].fields.join(','));
    }
  }
  return records.map(({ where, row }) => genericPoint(aliasRow(row), where, source, options));
}

/** Parses JSONL: one object per line, generic columns or our training's metrics.jsonl records. */
export function parseJsonl(text: string, source: string, options: ParseOptions = {}): Point[] {
  const points: Point[] = [];
  jsonlObjects(text, source).forEach(({ record: raw, where }) => {
    const row = aliasRow(raw as Row);
    if (options.lossColumn === 'eval_loss' || options.lossColumn === 'val_loss') {
      const held = row.eval_loss ?? row.val_loss;
      if (held === undefined || held === null) return; // evaluated only every few steps
      row.loss = held;
    }
    if (row.params === undefined && options.params === undefined) {
      throw mismatch(`${where}: params`, 'a number (or the params option)', 'nothing');
    }
    points.push(genericPoint(row, where, source, options));
  });
  if (points.length === 0) throw mismatch(source, 'at least one JSON line', 'none');
  return points;
}

/** Parses text by format ('csv' or 'jsonl'); the format is usually taken from the file extension. */
export function parseDataset(text: string, source: string, format: 'csv' | 'jsonl', options: ParseOptions = {}): Point[] {
  if (format === 'csv') return parseCsv(text, source, options);
  if (format === 'jsonl') return parseJsonl(text, source, options);
  throw new ScalingLawError(`${source}: format: expected csv or jsonl, found ${String(format)}`);
}

/** Removes the `k` points with the highest loss (Epoch AI drop the 5 highest on the Chinchilla data). */
export function dropHighestLoss(points: readonly Point[], k: number): Point[] {
  if (k <= 0) return [...points];
  const order = points.map((p, i) => i).sort((i, j) => points[j].loss - points[i].loss || i - j);
  const drop = new Set(order.slice(0, k));
  return points.filter((_, i) => !drop.has(i));
}
