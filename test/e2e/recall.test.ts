/**
 * Browser e2e (issue 15): a recall target set in the settings, end to end from the UI, and the per-sample table of
 * a live run. A small folder dataset of English notes (3 classes; cardiology hard to tell from respiratory, and one
 * cardiology note misfiled under gastro) with `fewshot.minRecall: {"cardiology": 0.9}` → right-click → Train
 * Few-Shot Model → the dashboard's recall-target table (class, target, threshold, recall ≥ argmax recall) →
 * Predict Selection on a test note returns the label the saved decision rule gives (head.json), even where the
 * most probable class differs → the per-sample table lists test and out-of-fold training rows; "Suspects only"
 * leaves exactly the flagged rows, the misfiled note among them. Screenshots: test-results/screenshots/recall-*.png.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  assertNotBlank, Browser, chooseContextMenuItem, cleanUpSuite, CodeServer, expectUi, focusWorkbench, launchBrowser, makeScratchWorkspace,
  openWorkbench, repoRoot, runCommand, screenshot, startCodeServer, waitForTitle, webviewFrame,
} from '../harness';
import { decideLabel } from '../../src/core/labels/thresholds';
import { suspectsOf } from '../../src/core/labels/samples';
import type { TrainPrediction } from '../../src/protocol/labels';
import type { ClassificationReport, ModelFile, TestPrediction } from '../../src/protocol/run';

const LABELS = ['cardiology', 'gastro', 'respiratory'];
const TARGET = 0.9;

/** 16 notes per class: the first 10 train, the rest test. Respiratory shares chest/exertion words with cardiology. */
const NOTES: Record<string, string[]> = {
  cardiology: [
    'Chest pain on exertion radiating to the left arm, relieved by rest.',
    'Palpitations and an irregular pulse; ECG shows atrial fibrillation.',
    'Elevated troponin after crushing chest pressure, suspected infarction.',
    'Heart murmur on auscultation, echocardiogram ordered for the valve.',
    'Blood pressure 180/110 with headache, hypertension poorly controlled.',
    'Ankle swelling and orthopnoea, heart failure with reduced ejection fraction.',
    'Syncope during exercise, ECG shows a prolonged QT interval.',
    'Tachycardia at rest, beta blocker dose increased.',
    'Angina at night, coronary angiogram scheduled.',
    'Bradycardia with dizziness, pacemaker assessment requested.',
    'New ECG changes with ST elevation in the anterior leads.',
    'Statin started after raised cholesterol and a family history of heart disease.',
    'Chest tightness on climbing stairs, stress test planned.',
    'Irregular heartbeat on the monitor, anticoagulation discussed.',
    'Echocardiogram shows a dilated left ventricle.',
    'Hypertension follow-up, blood pressure now 135/85.',
  ],
  gastro: [
    'Epigastric pain after meals with heartburn and acid reflux.',
    'Bloody diarrhoea for two weeks, colitis suspected, colonoscopy booked.',
    'Nausea and vomiting with right upper quadrant pain, gallstones on ultrasound.',
    'Jaundice and dark urine, liver enzymes raised, hepatitis screen sent.',
    'Constipation and bloating for months, irritable bowel suspected.',
    'Black tarry stools, upper endoscopy for a bleeding ulcer.',
    'Difficulty swallowing solids, oesophageal stricture on barium swallow.',
    'Abdominal cramps and loose stools after antibiotics.',
    'Coeliac serology positive, gluten free diet advised.',
    'Rectal bleeding with haemorrhoids on examination.',
    'Pancreatitis with severe abdominal pain radiating to the back.',
    'Weight loss and change in bowel habit, colonoscopy requested.',
    'Reflux symptoms improved on a proton pump inhibitor.',
    'Fatty liver on ultrasound, alcohol intake discussed.',
    'Crohn disease flare with abdominal pain and diarrhoea.',
    'Vomiting blood after heavy drinking, endoscopy today.',
  ],
  respiratory: [
    'Chest tightness and wheeze on exertion, asthma inhaler increased.',
    'Shortness of breath at night with chest pressure, spirometry ordered.',
    'Chest pain on deep breathing, pleurisy suspected.',
    'Breathless climbing stairs with a chest tightness, COPD review.',
    'Productive cough and fever, chest x-ray shows pneumonia.',
    'Low oxygen saturation and breathlessness, pulmonary embolism ruled out.',
    'Chest discomfort and wheeze at rest, nebuliser given.',
    'Persistent cough for months, smoker, chest CT planned.',
    'Shortness of breath and ankle swelling, lung function reduced.',
    'Exertional chest tightness improved with the inhaler.',
    'Night cough and chest pressure, peak flow variable.',
    'Chest pain worse on breathing in after a viral infection.',
    'Breathlessness on exertion with an irregular breathing pattern.',
    'Wheeze and chest tightness in cold air.',
    'Oxygen started for breathlessness, chest exam crackles.',
    'Sleep apnoea suspected, snoring and daytime tiredness.',
  ],
};
/** A cardiology note filed under gastro: the label error the table should flag. */
const MISFILED = 'Crushing chest pain with ST elevation on the ECG, troponin raised.';

function datasetFiles(): Record<string, string> {
  const files: Record<string, string> = {};
  for (const [label, notes] of Object.entries(NOTES)) {
    notes.forEach((text, i) => { files[`notes/${i < 10 ? 'train' : 'test'}/${label}/${label.slice(0, 4)}${i}.txt`] = text + '\n'; });
  }
  files['notes/train/gastro/misfiled.txt'] = MISFILED + '\n';
  return files;
}

function jsonLines<T>(file: string): T[] {
  return fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as T);
}

function argmax(p: Record<string, number>): string {
  return LABELS.reduce((best, l) => ((p[l] ?? 0) > (p[best] ?? 0) ? l : best), LABELS[0]);
}

async function cellTexts(frame: Frame, col: string): Promise<string[]> {
  return (await frame.locator(`#samples-rows tbody td.col-${col}`).allInnerTexts()).map((s) => s.trim());
}

describe('e2e: recall target and per-sample table of a live run', function () {
  this.timeout(420_000);
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let workspace = '';
  let page: Page;
  let frame: Frame;
  let runDir = '';

  before(async () => {
    workspace = makeScratchWorkspace('recall-e2e', { only: [], files: { ...datasetFiles(), 'ward-notes.txt': 'placeholder\n' } });
    server = await startCodeServer({
      name: 'recall-e2e',
      workspace,
      // head auto (the default): the only head with out-of-fold probabilities, which recall targets need
      settings: { 'fewshot.train.encoder': 'hashing', 'fewshot.minRecall': { cardiology: TARGET } },
    });
    browser = await launchBrowser('recall-e2e');
    page = browser.page;
    await openWorkbench(page, server.workbenchUrl({ extensionDevelopmentPath: repoRoot }));
    await waitForTitle(page, '[Extension Development Host]');
  });

  cleanUpSuite('recall-e2e', () => ({ browser, server, workspace }));

  it('trains from the Explorer with the minRecall setting and shows the recall-target table', async () => {
    await page.keyboard.press('Control+Shift+E');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: /^notes$/ }).first();
    await expectUi(page, 'notes is not in the Explorer', row.waitFor({ state: 'visible', timeout: 60_000 }));
    // The menu item shows once the extension is active (onStartupFinished): retry the menu until it does.
    await chooseContextMenuItem(page, row, /^Train Few-Shot Model$/);

    frame = await expectUi(page, 'the dashboard did not open', webviewFrame(page, { hasText: /Validation macro-F1 and accuracy/, timeoutMs: 120_000 }));
    await expectUi(page, 'the report did not show', frame.locator('#report-table').waitFor({ state: 'visible', timeout: 180_000 }));
    assert.match(await frame.locator('#run-status').innerText(), /completed/i);
    const table = frame.locator('#recall-targets');
    await expectUi(page, 'no recall-target table under the report', table.waitFor({ state: 'visible', timeout: 30_000 }));
    await table.scrollIntoViewIfNeeded();
    assertNotBlank(await screenshot(page, 'recall-targets'));

    const runsDir = path.join(workspace, '.fewshot', 'runs');
    const ids = fs.readdirSync(runsDir).filter((d) => !d.startsWith('.'));
    assert.equal(ids.length, 1, `runs: ${ids.join(', ')}`);
    runDir = path.join(runsDir, ids[0]);
    const model = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    const report = JSON.parse(fs.readFileSync(path.join(runDir, 'report.json'), 'utf8')) as ClassificationReport;
    assert.deepEqual(model.decision?.minRecall, { cardiology: TARGET }, 'the setting did not reach the saved model');
    assert.ok(report.recallTargets?.length, 'report.json has no recallTargets');

    // One row per class; cardiology names its target and threshold, and its test recall is at least the argmax one.
    const rows = await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.children].map((c) => (c.textContent ?? '').trim())));
    console.log(`      recall targets: ${rows.map((r) => r.join(' | ')).join(' ; ')}`);
    assert.deepEqual(rows.map((r) => r[0]), LABELS);
    const [, target, threshold, recall, precision, argmaxRecall] = rows.find((r) => r[0] === 'cardiology')!;
    assert.equal(target, String(TARGET));
    const saved = report.recallTargets!.find((r) => r.label === 'cardiology')!;
    assert.equal(threshold, model.decision!.thresholds.cardiology.toFixed(4));
    assert.deepEqual([recall, precision, argmaxRecall], [saved.recall, saved.precision, saved.argmaxRecall].map((v) => v.toFixed(4)));
    assert.ok(Number(recall) >= Number(argmaxRecall), `recall ${recall} below the argmax recall ${argmaxRecall}`);
    // classes without a target show dashes
    for (const r of rows.filter((x) => x[0] !== 'cardiology')) assert.deepEqual(r.slice(1, 3), ['—', '—']);
  });

  it('predicts a test note in an editor with the saved decision rule (Predict Selection)', async () => {
    const model = JSON.parse(fs.readFileSync(path.join(runDir, 'model', 'head.json'), 'utf8')) as ModelFile;
    const preds = jsonLines<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    // Prefer a note the threshold moved to another class than its most probable one: the rule must be applied.
    const moved = preds.find((p) => decideLabel(LABELS.map((l) => p.probabilities![l]), LABELS, model.decision!) !== argmax(p.probabilities!));
    const note = moved ?? preds[0];
    const expected = decideLabel(LABELS.map((l) => note.probabilities![l]), LABELS, model.decision!);
    assert.equal(note.predicted, expected, 'the run\'s test prediction is not the decided label');
    console.log(`      predicting "${note.text}": decided ${expected}, most probable ${argmax(note.probabilities!)}${moved ? '' : ' (no test note was moved by the threshold)'}`);

    fs.writeFileSync(path.join(workspace, 'ward-notes.txt'), `${note.text}\n`);
    await runCommand(page, 'Go to File...').catch(async () => {
      await focusWorkbench(page);
      await page.keyboard.press('Control+P');
    });
    const input = page.locator('.quick-input-widget input').first();
    await input.waitFor({ state: 'visible' });
    await input.fill('ward-notes.txt');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: 'ward-notes.txt' }).first().click();
    const editor = page.locator('.editor-instance .monaco-editor').first();
    const line = editor.locator('.view-line', { hasText: note.text!.slice(0, 20) });
    await expectUi(page, 'ward-notes.txt did not open', line.waitFor({ state: 'visible', timeout: 30_000 }));
    await line.click();
    await page.keyboard.press('Home');
    await page.keyboard.press('Shift+End');
    await editor.locator('.selected-text').first().waitFor({ state: 'visible' });

    await runCommand(page, 'Predict Selection');
    const toast = page.locator('.notifications-toasts .notification-list-item', { hasText: /" → / }).first();
    await expectUi(page, 'no prediction notification', toast.waitFor({ state: 'visible', timeout: 60_000 }));
    const message = (await toast.locator('.notification-list-item-message').innerText()).replace(/\s+/g, ' ');
    console.log(`      notification: ${message}`);
    // "<text>" → <label> <p> · …: the first label shown is the decided one
    assert.equal(/" → (\S+) /.exec(message)?.[1], expected, message);
    await screenshot(page, 'recall-predict-selection');
  });

  it('lists test and out-of-fold rows of the run in the per-sample table, and filters the suspects', async () => {
    const tab = page.locator('.tabs-container .tab', { hasText: /^Training: notes/ }).first();
    await tab.click();
    frame = await expectUi(page, 'the dashboard has no per-sample table', webviewFrame(page, { hasText: /Per-sample predictions/, timeoutMs: 60_000 }));
    const test = jsonLines<TestPrediction>(path.join(runDir, 'predictions.jsonl'));
    const oof = jsonLines<TrainPrediction>(path.join(runDir, 'oof.jsonl'));
    assert.equal(test.length, 18);
    assert.equal(oof.length, 31, 'oof.jsonl should hold every training text');
    const suspects = suspectsOf(oof, LABELS);
    const total = test.length + oof.length;
    await expectUi(page, `the table did not list ${total} rows`, frame.locator('#samples-count', { hasText: `Showing 1–${total} of ${total}` }).waitFor({ timeout: 30_000 }));
    assert.equal((await frame.locator('#samples-totals').innerText()).trim(), `${test.length} test rows, ${oof.length} training rows (out-of-fold), suspects: ${suspects.size}`);
    const splits = await cellTexts(frame, 'split');
    assert.equal(splits.filter((s) => s === 'test').length, test.length);
    assert.equal(splits.filter((s) => s === 'train (OOF)').length, oof.length);
    assert.equal(await frame.locator('#samples-no-oof').count(), 0);

    await frame.locator('#samples-suspects').check();
    const n = suspects.size;
    await expectUi(page, `"Suspects only" did not leave ${n} rows`, frame.locator('#samples-count', { hasText: `Showing 1–${n} of ${n}` }).waitFor({ timeout: 15_000 }));
    assert.equal(await frame.locator('#samples-error').count(), 0, 'the table reported an error');
    assert.equal(await frame.locator('#samples-rows tbody tr').count(), n);
    assert.equal(await frame.locator('#samples-rows tbody tr.suspect-row').count(), n);
    assert.deepEqual([...new Set(await cellTexts(frame, 'split'))], ['train (OOF)']);
    assert.deepEqual((await cellTexts(frame, 'text')).sort(), [...suspects.keys()].map((i) => oof[i].text).sort());
    // the planted error: a cardiology note under gastro, flagged as probably cardiology
    const misfiled = frame.locator('#samples-rows tbody tr', { hasText: MISFILED });
    assert.equal(await misfiled.count(), 1, 'the misfiled note is not among the suspects');
    assert.equal((await misfiled.locator('td.col-gold').innerText()).trim(), 'gastro');
    assert.equal((await misfiled.locator('td.col-suspect').innerText()).trim(), '⚑ cardiology');
    await frame.locator('#sample-table').scrollIntoViewIfNeeded();
    assertNotBlank(await screenshot(page, 'recall-samples-suspects'));
  });
});
