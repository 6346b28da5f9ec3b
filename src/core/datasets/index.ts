/**
 * Datasets: load + detect + split. Public API (docs/ARCHITECTURE.md, "Datasets").
 * No 'vscode' imports; safe to load in the extension host, server, CLI and trainer.
 */
export type { DatasetFormat, Sample, FileInfo, DatasetIssue, Dataset, LoadOptions, DatasetRef } from './types';
export { IssueCodes } from './types';
export {
  loadDataset, finishDataset, settleSplits, readSampleFile, readTable, sampleText, folderSample, listFolderDataset, skippedLinkIssue, splitFolders, pairedTestFile,
  isHiddenOrSystem, isUnlabeledFolderName, DEFAULTS as DATASET_DEFAULTS, SAMPLE_EXTENSIONS,
} from './load';
export type { DatasetParts, SettleSample, SettledSplits, TableRead, TableRow, ClassFolder, FolderListing, SplitListing, SkippedLink, UnlabeledFolder } from './load';
export { findDatasets, sniffTableFile, sniffTableText, SKIP_DIRS } from './find';
export { detectEncoding, guessLanguage, encodingLabel, encodingFamily } from './encoding';
export type { DetectedEncoding, DetectOptions } from './encoding';
export { parseDelimited, sniffDelimiter } from './csv';
export type { ParsedRow, ParseResult, TextPosition, TextSpan } from './csv';
export { detectColumns, readTableRecords, parseSplitValue, tableFormatOf } from './table';
export type { ColumnChoice, TableRecords } from './table';
export { stratifiedSplit, groupOfFileName } from './split';
export type { SplitResult, Splittable } from './split';

import type { DatasetInfo } from '../../protocol/run';
import type { Dataset as DatasetT } from './types';

/** The summary stored in run.json (`RunRecord.dataset`). */
export function toDatasetInfo(ds: DatasetT): DatasetInfo {
  const count = (samples: DatasetT['train']) => {
    const c: Record<string, number> = {};
    for (const l of ds.labels) c[l] = 0;
    for (const s of samples) c[s.label] = (c[s.label] ?? 0) + 1;
    return c;
  };
  return {
    path: ds.root, format: ds.format, fingerprint: ds.fingerprint, labels: ds.labels.slice(),
    counts: { train: count(ds.train), test: count(ds.test) }, testSource: ds.testSource, language: ds.language,
  };
}
