/**
 * Dataset checks: turns loaded files into issues (diagnostics) and a summary.
 * Pure: takes already-read files, returns data. Re-running it on cached files
 * is what makes re-analysis after a change cheap.
 */
import * as path from 'node:path';
import { DiagnosticCodes, type ClassSummary, type DatasetSummary, type DiagnosticCode, type FolderBadge } from '../../protocol/diagnostics';
import { encodingFamily, encodingLabel } from '../../core/datasets';
import { msg } from './messages';
import { imageDuplicateIssues, DECODERS_MISSING, skippedImageIssue, smallImageMessage } from './images';
import { jaccard, labelKey, positionAt, signatureSimilarity, yieldNow } from './text';
import type { DatasetDesc, Issue, IssueData, LoadedFile, Range, Sample, Settings, Severity } from './types';

export interface AnalysisResult {
  issues: Issue[];
  summary: DatasetSummary;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 3, warning: 2, info: 1, hint: 0 };

function zeroRange(): Range {
  return { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } };
}

/** Codes silenced for a dataset by fewshot.diagnostics.ignore. */
export function silencedCodes(settings: Settings, desc: Pick<DatasetDesc, 'key' | 'root'>): Set<string> {
  const out = new Set<string>();
  for (const [k, codes] of Object.entries(settings.ignore ?? {})) {
    const norm = k.replace(/\\/g, '/').replace(/\/+$/, '');
    if (norm === '*' || norm === desc.key || path.resolve(k) === desc.root) for (const c of codes ?? []) out.add(c);
  }
  return out;
}

export async function analyseDataset(desc: DatasetDesc, files: Map<string, LoadedFile>, settings: Settings, locale?: string): Promise<AnalysisResult> {
  const t0 = Date.now();
  const issues: Issue[] = [];
  const isTable = desc.format !== 'folders';
  const isImages = desc.media === 'images';
  let decodersMissing: string | undefined;
  const rel = (file: string) => {
    const r = path.relative(isTable ? path.dirname(desc.root) : desc.root, file).split(path.sep).join('/');
    return r || path.basename(file);
  };
  const where = (s: { file: string; row?: { line: number } }) => (s.row ? `${rel(s.file)}:${s.row.line + 1}` : rel(s.file));
  const base = (code: DiagnosticCode, extra: Partial<IssueData> = {}): IssueData => ({ dataset: desc.root, datasetKey: desc.key, format: desc.format, code, ...extra });
  const push = (code: DiagnosticCode, severity: Severity, message: string, file: string, range: Range, extra: Partial<IssueData> = {}, related?: Issue['related']) => {
    issues.push({ code, severity, message, file, range, related, data: base(code, extra) });
  };

  // ---- gather samples and per-file problems
  const members = desc.members.slice().sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const loaded: Array<{ lf: LoadedFile; label?: string }> = [];
  const samples: Sample[] = [];
  for (const m of members) {
    const lf = files.get(m.file);
    if (!lf) continue;
    loaded.push({ lf, label: m.label });
    if (isImages) {
      if (lf.image?.skipped?.code === DECODERS_MISSING) { decodersMissing ??= lf.image.skipped.detail; continue; }
      const bad = skippedImageIssue(lf, m.label, locale);
      if (bad) { push(bad.code, bad.severity, bad.message, lf.file, zeroRange(), { label: m.label }); continue; }
      const small = smallImageMessage(lf, locale);
      if (small) push(DiagnosticCodes.imageSmall, 'info', small, lf.file, zeroRange(), { label: m.label });
      samples.push(...lf.samples);
      continue;
    }
    if (lf.status === 'binary' || lf.status === 'error') {
      push(DiagnosticCodes.undecodableFile, 'error', msg(locale, 'binary'), lf.file, zeroRange(), { label: m.label });
      continue;
    }
    for (const e of lf.parseErrors) push(DiagnosticCodes.undecodableFile, 'error', msg(locale, 'badRow', e.line + 1, e.message), lf.file, e.range);
    if (!isTable && lf.status === 'empty') {
      push(DiagnosticCodes.emptyFile, 'warning', msg(locale, 'emptyFile'), lf.file, lf.headRange, { label: m.label });
      continue;
    }
    if (isTable && lf.columns && lf.samples.length === 0 && lf.skipped.length === 0 && lf.parseErrors.length === 0) {
      push(DiagnosticCodes.emptyFile, 'warning', msg(locale, 'emptyTable'), lf.file, lf.headRange);
    }
    if (isTable && lf.columns && lf.columnsGuessed) {
      push(DiagnosticCodes.columnsGuessed, 'warning', msg(locale, 'columnsGuessed', lf.columns.text, lf.columns.label), lf.file, lf.headRange);
    }
    for (const k of lf.skipped) {
      // A row with text and no label is an unlabelled text (dataset.unlabeled), not a problem: Information only.
      if (k.why === 'empty-label') push(DiagnosticCodes.emptyLabel, 'info', msg(locale, 'emptyLabel'), lf.file, k.range, { row: k.row });
      else push(DiagnosticCodes.emptyFile, 'warning', msg(locale, 'emptyRow'), lf.file, k.range, { row: k.row });
    }
    samples.push(...lf.samples);
  }

  // ---- links the listing did not follow (loops, targets outside the dataset, second ways to a file)
  const linkKey = { broken: 'linkBroken', outside: 'linkOutside', loop: 'linkLoop', seen: 'linkSeen' } as const;
  for (const l of desc.skippedLinks ?? []) push(DiagnosticCodes.linkNotFollowed, 'warning', msg(locale, linkKey[l.why], l.target ?? ''), l.link, zeroRange());

  // ---- encodings: flag the odd ones out in a mostly-X dataset
  const fam = new Map<string, number>();
  let textFiles = 0;
  for (const { lf } of loaded) {
    if (lf.status === 'binary' || lf.status === 'error' || lf.size === 0) continue;
    textFiles++;
    const f = encodingFamily(lf.encoding);
    fam.set(f, (fam.get(f) ?? 0) + 1);
  }
  if (!isImages && textFiles >= 2 && fam.size > 1) {
    const [major, count] = [...fam.entries()].sort((a, b) => b[1] - a[1])[0];
    if (count / textFiles >= 0.6) {
      for (const { lf, label } of loaded) {
        if (lf.status === 'binary' || lf.status === 'error' || lf.size === 0) continue;
        if (encodingFamily(lf.encoding) !== major) {
          push(DiagnosticCodes.unexpectedEncoding, 'warning', msg(locale, 'unexpectedEncoding', encodingLabel(lf.encoding), encodingLabel(major)), lf.file, lf.headRange, { label });
        }
      }
    }
  }

  // ---- too long
  for (const s of samples) {
    if (s.chars > settings.maxChars) {
      let range = s.range;
      if (!s.row) {
        const lf = files.get(s.file);
        if (lf) {
          const bomless = lf.text;
          // offset of the maxChars-th code point
          let off = 0, cp = 0;
          while (off < bomless.length && cp < settings.maxChars) { off += bomless.codePointAt(off)! > 0xffff ? 2 : 1; cp++; }
          range = { start: positionAt(bomless, off), end: positionAt(bomless, bomless.length) };
        }
      }
      push(DiagnosticCodes.tooLong, 'info', msg(locale, 'tooLong', s.chars.toLocaleString('en-US'), settings.maxChars.toLocaleString('en-US')), s.file, range, { label: s.label, row: s.row });
    }
  }

  // ---- counts per class
  const labels = new Set<string>(Object.keys(desc.classFolders));
  const trainCount = new Map<string, number>(), testCount = new Map<string, number>();
  const firstSample = new Map<string, Sample>(); // first train sample per class (else test)
  for (const s of samples) {
    labels.add(s.label);
    const m = s.split === 'train' ? trainCount : testCount;
    m.set(s.label, (m.get(s.label) ?? 0) + 1);
    const f = firstSample.get(s.label);
    if (!f || (f.split === 'test' && s.split === 'train')) firstSample.set(s.label, s);
  }
  const sortedLabels = [...labels].sort();
  const noun = (key: 'imbalance' | 'imbalanceNoWeighting' | 'underrepresented') =>
    isImages ? ({ imbalance: 'imbalanceImages', imbalanceNoWeighting: 'imbalanceImagesNoWeighting', underrepresented: 'underrepresentedImages' } as const)[key] : key;
  // first file of each class (folders), including empty/binary files
  const firstFile = new Map<string, { file: string; range: Range }>();
  for (const split of ['train', 'test', 'unsplit'] as const) {
    for (const m of members) {
      if (m.split !== split || !m.label || firstFile.has(m.label)) continue;
      const lf = files.get(m.file);
      firstFile.set(m.label, { file: m.file, range: lf?.headRange ?? zeroRange() });
    }
  }
  const classAnchor = (label: string): { file: string; range: Range } | undefined => {
    const s = firstSample.get(label);
    if (!isTable) {
      if (s) return { file: s.file, range: s.range.start.line === 0 ? files.get(s.file)?.headRange ?? s.range : s.range };
      return firstFile.get(label);
    }
    if (s?.row) return { file: s.file, range: { start: { line: s.row.line, character: 0 }, end: s.range.end.line === s.row.line ? s.range.end : { line: s.row.line, character: 0 } } };
    const first = loaded[0]?.lf;
    return first ? { file: first.file, range: first.headRange } : undefined;
  };
  const trainLabels = sortedLabels.filter((l) => (trainCount.get(l) ?? 0) > 0);
  let smallest: string | undefined;
  for (const l of trainLabels) if (smallest === undefined || trainCount.get(l)! < trainCount.get(smallest)!) smallest = l;
  const datasetAnchor = (): { file: string; range: Range } | undefined => {
    if (isTable) {
      const first = loaded[0]?.lf;
      return first ? { file: first.file, range: first.headRange } : undefined;
    }
    // Folder layouts: the first file of the smallest class (where more data is needed most).
    return smallest !== undefined ? classAnchor(smallest) : sortedLabels.length ? classAnchor(sortedLabels[0]) : undefined;
  };
  const totalTest = [...testCount.values()].reduce((a, b) => a + b, 0);
  const totalTrain = [...trainCount.values()].reduce((a, b) => a + b, 0);

  // ---- label variants
  const byKey = new Map<string, string[]>();
  for (const l of sortedLabels) {
    const k = labelKey(l);
    byKey.set(k, [...(byKey.get(k) ?? []), l]);
  }
  for (const group of byKey.values()) {
    if (group.length < 2) continue;
    const shown = group.map((g) => `'${g}'`).join(', ');
    for (const l of group) {
      const a = classAnchor(l);
      if (a) push(DiagnosticCodes.labelVariants, 'warning', msg(locale, 'labelVariants', shown), a.file, a.range, { label: l });
    }
  }

  // ---- splits
  if (totalTest === 0 && totalTrain > 0) {
    const a = datasetAnchor();
    if (a) push(DiagnosticCodes.missingTestSplit, isTable ? 'info' : 'warning', msg(locale, isTable ? 'missingTestTable' : 'missingTestFolders', desc.name), a.file, a.range);
  }
  for (const l of sortedLabels) {
    const tr = trainCount.get(l) ?? 0, te = testCount.get(l) ?? 0;
    const a = classAnchor(l);
    if (!a) continue;
    if (totalTest > 0 && tr > 0 && te === 0) push(DiagnosticCodes.classMissingFromSplit, 'warning', msg(locale, 'classNoTest', l), a.file, a.range, { label: l });
    if (tr === 0 && te > 0) push(DiagnosticCodes.classMissingFromSplit, 'error', msg(locale, 'classNoTrain', l), a.file, a.range, { label: l });
    if (tr > 0 && tr < settings.minTrainPerClass) push(DiagnosticCodes.tooFewTrain, 'warning', msg(locale, 'tooFewTrain', l, tr, settings.minTrainPerClass, settings.minTrainPerClass - tr), a.file, a.range, { label: l });
    if (totalTest > 0 && tr > 0 && te > 0 && te < settings.minTestPerClass) push(DiagnosticCodes.tooFewTest, 'warning', msg(locale, 'tooFewTest', l, te, settings.minTestPerClass), a.file, a.range, { label: l });
  }

  // ---- imbalance
  if (trainLabels.length >= 2 && smallest !== undefined) {
    let largest = trainLabels[0];
    for (const l of trainLabels) if (trainCount.get(l)! > trainCount.get(largest)!) largest = l;
    const ratio = trainCount.get(largest)! / trainCount.get(smallest)!;
    if (ratio > settings.imbalanceRatio) {
      const a = classAnchor(smallest);
      if (a) push(DiagnosticCodes.classImbalance, 'warning', msg(locale, noun(settings.classWeighting ? 'imbalance' : 'imbalanceNoWeighting'), largest, trainCount.get(largest)!, smallest, trainCount.get(smallest)!, ratio.toFixed(1), settings.imbalanceRatio), a.file, a.range, { label: smallest });
    }
    const mean = totalTrain / trainLabels.length;
    for (const l of trainLabels) {
      const c = trainCount.get(l)!;
      if (c < mean / 2) {
        const a = classAnchor(l);
        if (a) push(DiagnosticCodes.classUnderrepresented, 'info', msg(locale, noun('underrepresented'), l, c, mean.toFixed(1)), a.file, a.range, { label: l });
      }
    }
  }

  // ---- images: the image library is missing (one error on the dataset), exact and near duplicates (perceptual hash)
  if (decodersMissing !== undefined) {
    const a = datasetAnchor() ?? firstFile.values().next().value;
    if (a) push(DiagnosticCodes.imageUnreadable, 'error', msg(locale, 'decodersMissing', decodersMissing), a.file, a.range);
  }
  if (isImages) {
    for (const d of await imageDuplicateIssues(samples, files, rel, locale)) {
      push(d.code, d.severity, d.message, d.sample.file, d.sample.range, { label: d.sample.label, other: { file: d.other.file, range: d.other.range } },
        [{ file: d.other.file, range: d.other.range, message: d.relatedMessage }]);
    }
  }

  // ---- exact duplicates, conflicts, exact leakage
  const groups = new Map<string, Sample[]>();
  for (const s of isImages ? [] : samples) {
    const g = groups.get(s.hash);
    if (g) g.push(s); else groups.set(s.hash, [s]);
  }
  const exactLeaked = new Set<Sample>();
  const loc = (s: Sample) => ({ file: s.file, range: s.range });
  for (const g of groups.values()) {
    if (g.length < 2) continue;
    const firstTrain = g.find((s) => s.split === 'train');
    const labelsInGroup = new Set(g.map((s) => s.label));
    if (labelsInGroup.size > 1) {
      for (const s of g) {
        const other = g.find((o) => o.label !== s.label)!;
        push(DiagnosticCodes.conflictingLabels, 'error', msg(locale, 'conflicting', s.label, other.label, where(other)), s.file, s.range,
          { label: s.label, other: loc(other), row: s.row }, [{ ...loc(other), message: msg(locale, 'relatedOther', other.label) }]);
      }
    }
    if (firstTrain) {
      for (const s of g) {
        if (s.split !== 'test') continue;
        exactLeaked.add(s);
        push(DiagnosticCodes.leakageExact, 'warning', msg(locale, 'leakageExact', where(firstTrain)), s.file, s.range,
          { label: s.label, other: loc(firstTrain), row: s.row }, [{ ...loc(firstTrain), message: msg(locale, 'relatedTrain') }]);
      }
    }
    for (const split of ['train', 'test'] as const) {
      const seen = new Map<string, Sample>();
      for (const s of g) {
        if (s.split !== split) continue;
        const first = seen.get(s.label);
        if (!first) { seen.set(s.label, s); continue; }
        push(DiagnosticCodes.duplicateInSplit, 'warning', msg(locale, 'duplicate', where(first)), s.file, s.range,
          { label: s.label, other: loc(first), row: s.row }, [{ ...loc(first), message: msg(locale, 'relatedFirst') }]);
      }
    }
  }

  // ---- near-duplicate leakage (MinHash LSH over unique train texts, verified with exact Jaccard)
  const tests = samples.filter((s) => s.split === 'test' && !exactLeaked.has(s) && s.sig);
  if (tests.length && totalTrain) {
    const buckets = new Map<number, Sample[]>();
    const seenHash = new Set<string>();
    let n = 0;
    for (const s of samples) {
      if (s.split !== 'train' || !s.sig || seenHash.has(s.hash)) continue;
      seenHash.add(s.hash);
      for (const k of s.bands!) {
        const b = buckets.get(k);
        if (b) { if (b.length < 24) b.push(s); } else buckets.set(k, [s]);
      }
      if (++n % 2000 === 0) await yieldNow();
    }
    n = 0;
    const tried = new Set<Sample>();
    for (const t of tests) {
      let best: Sample | undefined, bestJ = 0;
      tried.clear();
      scan: for (const k of t.bands!) {
        for (const c of buckets.get(k) ?? []) {
          if (tried.has(c)) continue;
          tried.add(c);
          // cheap MinHash estimate first; exact Jaccard only for plausible pairs
          if (signatureSimilarity(t.sig!, c.sig!) < settings.nearDuplicateThreshold - 0.25) continue;
          const j = jaccard(t.shingles, c.shingles);
          if (j > bestJ) { bestJ = j; best = c; }
          // one match above the threshold is enough to report (keeps dense, templated data linear)
          if (bestJ >= settings.nearDuplicateThreshold && tried.size >= 8) break scan;
        }
      }
      if (best && bestJ >= settings.nearDuplicateThreshold) {
        push(DiagnosticCodes.leakageNear, 'warning', msg(locale, 'leakageNear', Math.floor(bestJ * 100), where(best)), t.file, t.range,
          { label: t.label, other: loc(best), row: t.row }, [{ ...loc(best), message: msg(locale, 'relatedTrain') }]);
      }
      if (++n % 1000 === 0) await yieldNow();
    }
  }

  // ---- silencing
  const silenced = silencedCodes(settings, desc);
  const kept = silenced.size ? issues.filter((i) => !silenced.has(i.code)) : issues;

  // ---- summary
  const worst = (list: Issue[]): Severity | undefined => {
    let severity: Severity | undefined;
    for (const i of list) if (!severity || SEVERITY_RANK[i.severity] > SEVERITY_RANK[severity]) severity = i.severity;
    return severity;
  };
  const messages = (list: Issue[]) => [...new Set(list.filter((i) => i.severity !== 'hint').map((i) => i.message))].slice(0, 5);
  const classes: ClassSummary[] = sortedLabels.map((l) => {
    const mine = kept.filter((i) => i.data.label === l);
    const severity = worst(mine);
    return {
      label: l, train: trainCount.get(l) ?? 0, test: testCount.get(l) ?? 0,
      folder: desc.classFolders[l]?.[0],
      folders: desc.classFolders[l] ? [...desc.classFolders[l]] : undefined,
      badges: isTable ? undefined : folderBadges(desc.classFolders[l] ?? [], mine, samples.find((s) => s.label === l && s.split === 'test')?.file),
      severity: severity === 'hint' ? undefined : severity,
      problems: messages(mine),
    };
  });
  /** Each class folder with the warnings/errors that belong to it: an issue belongs to the folder holding its
   * file, except a test-size problem, which belongs to the folder holding the class's test samples. */
  function folderBadges(folders: string[], mine: Issue[], testFile: string | undefined): FolderBadge[] {
    const holder = (file: string | undefined) => (file ? folders.find((d) => file.startsWith(d + path.sep)) : undefined);
    const out: FolderBadge[] = [];
    for (const folder of folders) {
      const own = mine.filter((i) => (i.severity === 'error' || i.severity === 'warning')
        && holder(i.code === DiagnosticCodes.tooFewTest ? testFile : i.file) === folder);
      const severity = worst(own);
      if (severity === 'error' || severity === 'warning') out.push({ folder, severity, problems: messages(own) });
    }
    return out;
  }
  return {
    issues: kept,
    summary: { root: desc.root, format: desc.format, ...(isImages ? { media: 'images' as const } : {}), classes, problemCount: kept.length, analysedMs: Date.now() - t0 },
  };
}
