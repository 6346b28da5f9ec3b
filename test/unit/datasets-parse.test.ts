import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  detectEncoding, parseDelimited, sniffDelimiter, detectColumns, readTableRecords, guessLanguage, groupOfFileName, stratifiedSplit,
} from '../../src/core/datasets';
import type { Sample } from '../../src/core/datasets';
import { FewShotError } from '../../src/core/errors';
import { FIXTURES, utf16 } from './helpers/datasets-fixtures';

describe('datasets: detectEncoding', () => {
  const zh = '胸口疼痛，向左臂放射。ECG 正常';
  it('reads plain UTF-8', () => {
    const r = detectEncoding(Buffer.from('hello, wörld ' + zh));
    assert.equal(r.encoding, 'utf-8');
    assert.equal(r.text, 'hello, wörld ' + zh);
  });
  it('reads UTF-8 with a BOM and drops the BOM', () => {
    const r = detectEncoding(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('abc')]));
    assert.deepEqual(r, { encoding: 'utf-8-bom', text: 'abc' });
  });
  it('reads UTF-16 LE and BE with BOM', () => {
    assert.deepEqual(detectEncoding(utf16('Ab ' + zh)), { encoding: 'utf-16le', text: 'Ab ' + zh });
    assert.deepEqual(detectEncoding(utf16('Ab ' + zh, true)), { encoding: 'utf-16be', text: 'Ab ' + zh });
  });
  it('reads GB18030/GBK text (fixture written by Python\'s gbk codec)', () => {
    const buf = readFileSync(path.join(FIXTURES, 'gbk-folders', 'train', '心内科', 'train1.txt'));
    assert.throws(() => new TextDecoder('utf-8', { fatal: true }).decode(buf)); // really not UTF-8
    const r = detectEncoding(buf);
    assert.equal(r.encoding, 'gb18030');
    assert.equal(r.text, '胸口压榨样疼痛，向左臂放射，伴大汗。');
  });
  it('calls files with NUL bytes binary', () => {
    assert.deepEqual(detectEncoding(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00, 0x14])), { encoding: 'binary', text: null });
  });
  it('calls undecodable bytes binary (Latin-1 text is neither UTF-8 nor CJK)', () => {
    assert.equal(detectEncoding(Buffer.from('caf\xe9 na\xefve r\xe9sum\xe9', 'latin1')).encoding, 'binary');
    assert.equal(detectEncoding(Buffer.from([0xff, 0xff, 0xfa, 0x81, 0x7f, 0x01, 0x02])).encoding, 'binary');
  });
  it('calls control-character soup binary', () => {
    assert.equal(detectEncoding(Buffer.from('\x01\x02\x03\x04abc\x05\x06')).encoding, 'binary');
  });
  it('tolerates a cut multi-byte character only when told the buffer is truncated', () => {
    const full = Buffer.from('abc 中文');
    const cut = full.subarray(0, full.length - 1);
    assert.equal(detectEncoding(cut, { truncated: true }).encoding, 'utf-8');
    assert.equal(detectEncoding(cut, { truncated: true }).text, 'abc 中');
    assert.notEqual(detectEncoding(cut).encoding, 'utf-8');
  });
  it('reads an empty buffer as empty UTF-8', () => {
    assert.deepEqual(detectEncoding(Buffer.alloc(0)), { encoding: 'utf-8', text: '' });
  });
});

describe('datasets: CSV parsing', () => {
  it('keeps the 0-based position of every field, inside the quotes, across CRLF and quoted newlines', () => {
    const r = parseDelimited('\uFEFFa,b\r\n"x, ""y""",1\r\n"multi\nline",2\n', ',');
    assert.deepEqual(r.rows.map((x) => [x.line, x.lastLine]), [[1, 1], [2, 2], [3, 4]]);
    assert.deepEqual(r.rows[0].spans[1], { start: { line: 0, character: 2 }, end: { line: 0, character: 3 } });
    assert.deepEqual(r.rows[1].spans[0], { start: { line: 1, character: 1 }, end: { line: 1, character: 9 } });
    assert.deepEqual(r.rows[1].spans[1], { start: { line: 1, character: 11 }, end: { line: 1, character: 12 } });
    assert.deepEqual(r.rows[2].spans[0], { start: { line: 2, character: 1 }, end: { line: 3, character: 4 } });
    assert.deepEqual(r.rows[2].spans[1], { start: { line: 3, character: 6 }, end: { line: 3, character: 7 } });
  });
  it('handles quoted fields, escaped quotes, embedded newlines and CRLF with 1-based line numbers', () => {
    const csv = 'text,label\r\n"He said ""stop"", then left",a\r\n"line one\r\nline two",b\r\nplain,c\r\n';
    const r = parseDelimited(csv, ',');
    assert.deepEqual(r.rows.map((x) => x.fields), [['text', 'label'], ['He said "stop", then left', 'a'], ['line one\nline two', 'b'], ['plain', 'c']]);
    assert.deepEqual(r.rows.map((x) => x.line), [1, 2, 3, 5]);
    assert.equal(r.problems.length, 0);
  });
  it('skips blank lines but keeps empty quoted fields and a last row without newline', () => {
    const r = parseDelimited('a,b\n\n"",x\n\ny,z', ',');
    assert.deepEqual(r.rows.map((x) => [x.line, ...x.fields]), [[1, 'a', 'b'], [3, '', 'x'], [5, 'y', 'z']]);
  });
  it('reports an unterminated quote with its line', () => {
    const r = parseDelimited('text,label\nok,a\n"never closed,b\nmore', ',');
    assert.equal(r.unterminated, true);
    assert.equal(r.problems[0].line, 3);
  });
  it('keeps stray quotes inside unquoted fields', () => {
    assert.deepEqual(parseDelimited('5" screen,x', ',').rows[0].fields, ['5" screen', 'x']);
  });
  it('handles lone CR line ends and tabs', () => {
    assert.deepEqual(parseDelimited('a\tb\rc\td', '\t').rows.map((x) => [x.line, ...x.fields]), [[1, 'a', 'b'], [2, 'c', 'd']]);
  });
  it('sniffs ; and tab delimiters, ignoring quoted commas', () => {
    assert.equal(sniffDelimiter('text;label\n"a, b";c'), ';');
    assert.equal(sniffDelimiter('text\tlabel\nx\ty'), '\t');
    assert.equal(sniffDelimiter('"a;b;c",label\nx,y'), ',');
  });
});

describe('datasets: column detection', () => {
  const rows = (vals: string[][]) => vals.map((values) => ({ values }));
  it('finds text/label columns by header name (English and Chinese, any case)', () => {
    assert.deepEqual(detectColumns(['ID', 'Sentence', 'Category'], rows([['1', 'a long text here', 'x']]), 'f.csv'), { text: 1, label: 2, split: undefined, group: undefined, how: 'header' });
    const c = detectColumns(['文本', '标签'], [], 'f.csv');
    assert.equal(c?.text, 0); assert.equal(c?.label, 1);
    const d = detectColumns(['note_text', 'target_class', 'Split', 'patient_id'], [], 'f.csv');
    assert.deepEqual(d, { text: 0, label: 1, split: 2, group: 3, how: 'header' });
  });
  it('does not take an id column as the text column', () => {
    const c = detectColumns(['document_id', 'document', 'label'], [], 'f.csv');
    assert.equal(c?.text, 1);
    assert.equal(c?.group, 0);
  });
  it('falls back to heuristics: label = low-cardinality short strings, text = longest', () => {
    const data = rows([
      ['1', 'the patient reports chest pain on exertion', 'cardio', 'x'],
      ['2', 'productive cough and fever for five days', 'resp', 'x'],
      ['3', 'palpitations and an irregular pulse at rest', 'cardio', 'x'],
      ['4', 'wheeze and breathlessness after a cold', 'resp', 'x'],
      ['5', 'ankle swelling and orthopnoea, raised JVP', 'cardio', 'x'],
      ['6', 'sputum production with pleuritic pain', 'resp', 'x'],
    ]);
    assert.deepEqual(detectColumns(['c0', 'c1', 'c2', 'c3'], data, 'f.csv'), { text: 1, label: 2, split: undefined, group: undefined, how: 'heuristic' });
  });
  it('returns null when nothing fits', () => {
    assert.equal(detectColumns(['only'], rows([['a']]), 'f.csv'), null);
    assert.equal(detectColumns(['n1', 'n2'], rows([['1', '2'], ['3', '4'], ['5', '6']]), 'f.csv'), null);
  });
  it('honours overrides and names the file and the columns when one is missing', () => {
    const c = detectColumns(['body', 'y2', 'label'], [], 'f.csv', { textColumn: 'body', labelColumn: 'y2' });
    assert.deepEqual([c?.text, c?.label, c?.how], [0, 1, 'option']);
    assert.throws(() => detectColumns(['body', 'label'], [], '/d/f.csv', { labelColumn: 'klass' }), (e: unknown) => {
      assert.ok(e instanceof FewShotError);
      assert.match(e.message, /\/d\/f\.csv/);
      assert.match(e.message, /klass/);
      assert.match(e.opts.fix ?? '', /body, label/);
      return true;
    });
  });
  it('reads JSONL records, skipping bad lines with an issue', () => {
    const r = readTableRecords('{"text":"a","label":"x"}\nnot json\n[1,2]\n\n{"text":"b","label":"y","n":3}\n', 'jsonl', '/d/f.jsonl');
    assert.deepEqual(r.header, ['text', 'label', 'n']);
    assert.deepEqual(r.rows.map((x) => ({ values: x.values, line: x.line })), [{ values: ['a', 'x', ''], line: 1 }, { values: ['b', 'y', '3'], line: 5 }]);
    assert.deepEqual(r.rowProblems.map((p) => p.line), [2, 3]);
    assert.deepEqual(r.issues.map((i) => i.line), [2, 3]);
    assert.ok(r.issues.every((i) => i.message.includes('/d/f.jsonl') && i.fix));
  });
  it('refuses a JSONL file with no JSON object at all', () => {
    assert.throws(() => readTableRecords('a,b\nc,d\n', 'jsonl', '/d/x.jsonl'), FewShotError);
  });
  it('pads short CSV rows and skips rows with extra fields (with the line number)', () => {
    const r = readTableRecords('text,label,split\nfine,a\nbad,a,train,extra\n', 'csv', '/d/f.csv');
    assert.deepEqual(r.rows.map((x) => ({ values: x.values, line: x.line })), [{ values: ['fine', 'a', ''], line: 2 }]);
    assert.deepEqual(r.rowProblems, [{ line: 3, reason: 'expected 3 fields but found 4' }]);
    assert.equal(r.issues[0].line, 3);
  });
});

describe('datasets: language and groups', () => {
  it('guesses zh / en / other', () => {
    assert.equal(guessLanguage(['患者胸痛两小时，ECG 示 ST 段抬高']), 'zh');
    assert.equal(guessLanguage(['The patient reports chest pain.']), 'en');
    assert.equal(guessLanguage(['Пациент жалуется на боль в груди']), 'other');
    assert.equal(guessLanguage(['12345 !!!']), 'other');
  });
  it('derives document groups from part markers in file names', () => {
    assert.equal(groupOfFileName('note12_part1.txt'), 'note12');
    assert.equal(groupOfFileName('note12-part-2.md'), 'note12');
    assert.equal(groupOfFileName('note12 (part 3).txt'), 'note12');
    assert.equal(groupOfFileName('visit_7_chunk04.txt'), 'visit_7');
    assert.equal(groupOfFileName('report.p2.txt'), 'report');
    assert.equal(groupOfFileName('step1.txt'), undefined);
    assert.equal(groupOfFileName('note12.txt'), undefined);
    assert.equal(groupOfFileName('part1.txt'), undefined);
  });
  it('stratifiedSplit keeps groups together and is deterministic per seed', () => {
    const samples: Sample[] = [];
    for (const label of ['a', 'b']) for (let i = 0; i < 12; i++) samples.push({ text: `${label}${i}`, label, file: `/${label}${i}`, group: i < 6 ? `${label}-doc${i % 3}` : undefined });
    for (let seed = 0; seed < 30; seed++) {
      const r = stratifiedSplit(samples, 0.25, seed);
      assert.equal(r.train.length + r.test.length, 24);
      const side = new Map<string, string>();
      for (const s of r.train) if (s.group) side.set(s.group, 'train');
      for (const s of r.test) if (s.group) assert.notEqual(side.get(s.group), 'train', `group ${s.group} split (seed ${seed})`);
      for (const l of ['a', 'b']) {
        assert.ok(r.test.some((s) => s.label === l) && r.train.some((s) => s.label === l));
      }
      assert.deepEqual(stratifiedSplit(samples, 0.25, seed).test, r.test);
    }
    assert.notDeepEqual(stratifiedSplit(samples, 0.25, 1).test.map((s) => s.text), stratifiedSplit(samples, 0.25, 2).test.map((s) => s.text));
  });
});
