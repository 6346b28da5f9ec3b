/** Label tools (issue 15): see src/protocol/labels.ts for the contracts and files. */
export { findLabelIssues, confidentJoint, perClassThresholds, clippedThresholds, type FlaggedExample } from './audit';
export { rankUnlabelled, margins, type RankedUnlabelled } from './suggest';
export { chooseThresholds, decideIndex, decideLabel } from './thresholds';
export { LabelStore, textHash, LABEL_FILES } from './reviewed';
export { openLabelSession, auditDataset, checkAuditable, suggestForDataset, SUGGEST_METHOD, type LabelSession, type LabelSessionOptions } from './session';
export { auditPredictions, auditRun, auditOfRun, AUDIT_METHOD } from './runAudit';
