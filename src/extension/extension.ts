/**
 * Extension entry point. Activation only wires features together: no ML
 * library is loaded here (training and prediction run in child processes).
 */
import * as vscode from 'vscode';
import { createHost, Host } from './host';
import { activateTrain, type TrainApi } from './train';
import { activateCompare } from './compare';
import { activateDiagnostics } from './diagnostics';
import { activatePredict } from './predict';
import { activateFinetune, type FinetuneApi } from './finetune';
import { activateLabels, type LabelsApi } from './labels';

export interface FewShotApi {
  host: Host;
  /** Test hook: resolves once every feature has registered. */
  ready: Promise<void>;
  /** Training, dashboards and the Datasets/Runs views (set synchronously during activation). */
  train: TrainApi;
  /** Fine-tuning set-up and checks (set synchronously during activation). */
  finetune: FinetuneApi;
  /** Check Labels, Suggest What to Label Next, Label Review (set once `ready` resolved). */
  labels: LabelsApi | undefined;
}

export function activate(context: vscode.ExtensionContext): FewShotApi {
  const host = createHost(context);
  let train: TrainApi | undefined;
  let labels: LabelsApi | undefined;
  const finetune = activateFinetune(host);
  const ready = (async () => {
    train = activateTrain(host);
    activateCompare(host);
    activatePredict(host);
    labels = activateLabels(host, train);
    await activateDiagnostics(host);
  })();
  ready.catch((e) => host.output.appendLine(`activation error: ${e instanceof Error ? e.stack : String(e)}`));
  return {
    host,
    ready,
    finetune,
    get labels() { return labels; },
    get train(): TrainApi {
      if (!train) throw new Error('Few-Shot Lab: the train feature failed to activate (see the output channel).');
      return train;
    },
  };
}

export function deactivate(): void {
  /* disposables are owned by context.subscriptions */
}
