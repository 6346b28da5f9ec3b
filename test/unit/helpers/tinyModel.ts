/**
 * Generates a tiny BERT-style model folder for transformers.js tests: config.json,
 * tokenizer.json (WordPiece), tokenizer_config.json and onnx/model.onnx, written with a minimal
 * protobuf encoder (no ONNX tooling needed). Random (seeded) weights; a few KB.
 *
 * Graph: last_hidden_state = (word_emb[input_ids] + type_emb[token_type_ids]) * attention_mask[..., None]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mulberry32 } from '../../../src/core/util/rng';

// ------------------------------------------------------------------ protobuf writer
function varint(n: number | bigint): number[] {
  let v = BigInt(n);
  if (v < 0n) v += 1n << 64n; // two's complement for negative int64
  const out: number[] = [];
  do {
    let b = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) b |= 0x80;
    out.push(b);
  } while (v > 0n);
  return out;
}
type Bytes = Uint8Array;
const cat = (parts: (Bytes | number[])[]): Bytes => {
  const len = parts.reduce((s, p) => s + p.length, 0);
  const out = new Uint8Array(len);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
};
const fInt = (field: number, v: number | bigint): Bytes => cat([varint((field << 3) | 0), varint(v)]);
const fBytes = (field: number, b: Bytes): Bytes => cat([varint((field << 3) | 2), varint(b.length), b]);
const fStr = (field: number, s: string): Bytes => fBytes(field, new TextEncoder().encode(s));
const msg = (...fields: Bytes[]): Bytes => cat(fields);

const FLOAT = 1;
const INT64 = 7;

function tensorProto(name: string, dims: number[], dataType: number, raw: Bytes): Bytes {
  return msg(...dims.map((d) => fInt(1, d)), fInt(2, dataType), fStr(8, name), fBytes(9, raw));
}
function valueInfo(name: string, elemType: number, dims: (number | string)[]): Bytes {
  const dimMsgs = dims.map((d) => fBytes(1, typeof d === 'number' ? fInt(1, d) : fStr(2, d)));
  const shape = msg(...dimMsgs);
  const tensorType = msg(fInt(1, elemType), fBytes(2, shape));
  return msg(fStr(1, name), fBytes(2, msg(fBytes(1, tensorType))));
}
function node(op: string, inputs: string[], outputs: string[], name: string, attrs: Bytes[] = []): Bytes {
  return msg(...inputs.map((i) => fStr(1, i)), ...outputs.map((o) => fStr(2, o)), fStr(3, name), fStr(4, op), ...attrs.map((a) => fBytes(5, a)));
}
function intAttr(name: string, v: number): Bytes {
  return msg(fStr(1, name), fInt(3, v), fInt(20, 2 /* INT */));
}

/** Builds the ONNX ModelProto bytes for embeddings [vocab][hidden] and type embeddings [2][hidden]. */
export function buildTinyOnnx(wordEmb: Float32Array, typeEmb: Float32Array, vocab: number, hidden: number): Bytes {
  const f32 = (a: Float32Array) => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
  const axes = new Uint8Array(new BigInt64Array([2n]).buffer);
  const graph = msg(
    fBytes(1, node('Gather', ['word_embeddings', 'input_ids'], ['we'], 'gather_words')),
    fBytes(1, node('Gather', ['type_embeddings', 'token_type_ids'], ['te'], 'gather_types')),
    fBytes(1, node('Add', ['we', 'te'], ['emb'], 'add')),
    fBytes(1, node('Cast', ['attention_mask'], ['maskf'], 'cast', [intAttr('to', FLOAT)])),
    fBytes(1, node('Unsqueeze', ['maskf', 'axes'], ['mask3'], 'unsqueeze')),
    fBytes(1, node('Mul', ['emb', 'mask3'], ['last_hidden_state'], 'mul')),
    fStr(2, 'tiny-bert'),
    fBytes(5, tensorProto('word_embeddings', [vocab, hidden], FLOAT, f32(wordEmb))),
    fBytes(5, tensorProto('type_embeddings', [2, hidden], FLOAT, f32(typeEmb))),
    fBytes(5, tensorProto('axes', [1], INT64, axes)),
    fBytes(11, valueInfo('input_ids', INT64, ['batch_size', 'sequence_length'])),
    fBytes(11, valueInfo('attention_mask', INT64, ['batch_size', 'sequence_length'])),
    fBytes(11, valueInfo('token_type_ids', INT64, ['batch_size', 'sequence_length'])),
    fBytes(12, valueInfo('last_hidden_state', FLOAT, ['batch_size', 'sequence_length', hidden])),
  );
  return msg(fInt(1, 8 /* ir_version */), fStr(2, 'fewshot-lab-tests'), fBytes(7, graph), fBytes(8, msg(fStr(1, ''), fInt(2, 14))));
}

// ------------------------------------------------------------------ model folder
export const SPECIAL = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];
export const WORDS = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'ran', 'far', 'away', 'a', 'big', 'red', 'ball', '##s', '你', '好', '世', '界', ',', '.', '!'];

export interface TinyModel {
  dir: string;
  vocab: string[];
  hidden: number;
  wordEmb: Float32Array;
  typeEmb: Float32Array;
}

function rng(seed: number): () => number {
  return mulberry32(seed);
}

export interface TinyModelOptions {
  hidden?: number;
  seed?: number;
  /** Leave these files out (e.g. 'tokenizer_config.json', 'onnx/model.onnx'). */
  omit?: string[];
  /** Write the graph as onnx/model_quantized.onnx (too) — same float graph, different name. */
  quantizedName?: boolean;
}

export function writeTinyModel(dir: string, o: TinyModelOptions = {}): TinyModel {
  const hidden = o.hidden ?? 8;
  const vocab = [...SPECIAL, ...WORDS];
  const r = rng(o.seed ?? 7);
  const wordEmb = Float32Array.from({ length: vocab.length * hidden }, () => r() * 2 - 1);
  const typeEmb = Float32Array.from({ length: 2 * hidden }, () => (r() * 2 - 1) * 0.5);
  const omit = new Set(o.omit ?? []);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  const put = (rel: string, data: string | Uint8Array) => { if (!omit.has(rel)) writeFileSync(join(dir, rel), data); };

  put('config.json', JSON.stringify({
    model_type: 'bert', architectures: ['BertModel'], hidden_size: hidden, vocab_size: vocab.length,
    num_attention_heads: 1, num_hidden_layers: 1, intermediate_size: hidden, max_position_embeddings: 64, type_vocab_size: 2, pad_token_id: 0,
  }, null, 2));
  const added = SPECIAL.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  const special = (t: string) => ({ id: t, ids: [vocab.indexOf(t)], tokens: [t] });
  put('tokenizer.json', JSON.stringify({
    version: '1.0', truncation: null, padding: null, added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }, { Sequence: { id: 'B', type_id: 1 } }, { SpecialToken: { id: '[SEP]', type_id: 1 } }],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  }));
  put('tokenizer_config.json', JSON.stringify({
    tokenizer_class: 'BertTokenizer', do_lower_case: true, model_max_length: 64, clean_up_tokenization_spaces: true,
    cls_token: '[CLS]', sep_token: '[SEP]', pad_token: '[PAD]', unk_token: '[UNK]', mask_token: '[MASK]',
  }));
  const onnx = buildTinyOnnx(wordEmb, typeEmb, vocab.length, hidden);
  put(o.quantizedName ? 'onnx/model_quantized.onnx' : 'onnx/model.onnx', onnx);
  return { dir, vocab, hidden, wordEmb, typeEmb };
}

/**
 * Reference WordPiece tokenisation for the fixture's vocabulary (lower-case, split on whitespace and
 * punctuation, CJK characters on their own, greedy longest-match subwords, [UNK] otherwise),
 * wrapped in [CLS] … [SEP].
 */
export function referenceIds(m: TinyModel, text: string): number[] {
  const ids = [m.vocab.indexOf('[CLS]')];
  const spaced = text.toLowerCase().replace(/([\p{P}\p{Script=Han}])/gu, ' $1 ');
  for (const word of spaced.split(/\s+/).filter(Boolean)) {
    const pieces: number[] = [];
    let start = 0;
    let bad = false;
    while (start < word.length) {
      let end = word.length;
      let found = -1;
      while (start < end) {
        const sub = (start > 0 ? '##' : '') + word.slice(start, end);
        const i = m.vocab.indexOf(sub);
        if (i >= 0) { found = i; break; }
        end--;
      }
      if (found < 0) { bad = true; break; }
      pieces.push(found);
      start = end;
    }
    if (bad) ids.push(m.vocab.indexOf('[UNK]'));
    else ids.push(...pieces);
  }
  ids.push(m.vocab.indexOf('[SEP]'));
  return ids;
}

/** Expected sentence embedding: mean over tokens of (word_emb + type_emb[0]), L2-normalised. */
export function expectedEmbedding(m: TinyModel, text: string): Float32Array {
  const ids = referenceIds(m, text);
  const H = m.hidden;
  const v = new Float64Array(H);
  for (const id of ids) for (let h = 0; h < H; h++) v[h] += m.wordEmb[id * H + h] + m.typeEmb[h];
  let n = 0;
  for (let h = 0; h < H; h++) { v[h] /= ids.length; n += v[h] * v[h]; }
  return Float32Array.from(v, (x) => x / Math.sqrt(n));
}
