// A PanelServices built straight on the engine, for the end-to-end suite while the editor core (issue 5) does not
// provide its own: the shipped predictor on the prompt at the cursor, the policy's α, a ledger file, the sidecars of
// a generated-images folder and the predictor's model.json. It ships inert: extension.ts uses it only when the test
// harness's probe is active (ROUTET2I_E2E_PROBE_DIR set) and registers nothing otherwise.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import * as vscode from 'vscode';
import { Ledger, monthKey, type LedgerEntry } from '../../backends/ledger';
import { RouteT2IError } from '../../router/errors';
import { parsePromptInput } from '../../router/inputs';
import { calibrateAlpha, decideRoute, DEFAULT_POLICY, explainDecision } from '../../router/policy';
import { defaultModelDir, Predictor } from '../../router/predictor';
import type { TestProbe } from '../probe/testProbe';
import type { ActivePromptState, BudgetState, CalibrationState, GalleryItem, PanelServices } from '../services';
import { TEST_COMMANDS, TEST_LAYOUT } from './testLayout';

export function createTestPanelServices(context: vscode.ExtensionContext, probe: TestProbe): PanelServices {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
  if (!folder) throw new RouteT2IError('no-workspace', 'the panel test services need a workspace folder');
  const imagesDir = join(folder, TEST_LAYOUT.images);
  const ledgerFile = join(folder, TEST_LAYOUT.ledger);

  const promptChanged = new vscode.EventEmitter<ActivePromptState | undefined>();
  const metricChanged = new vscode.EventEmitter<string>();
  const budgetChanged = new vscode.EventEmitter<void>();
  const galleryChanged = new vscode.EventEmitter<void>();
  const predictor = Predictor.load(defaultModelDir());
  let loaded: Predictor | undefined;
  let active: ActivePromptState | undefined;
  let metric = 'verdict';
  const calls = { setMetric: [] as string[], startCalibration: 0, openImage: [] as Array<{ image: string; sidecar?: string }> };

  const update = (editor: vscode.TextEditor | undefined): void => {
    // Focus in the panel (no text editor) keeps the prompt last shown.
    if (!editor || editor.document.languageId !== 't2i-prompt' || !loaded) return;
    const next = promptAt(loaded, editor.document, editor.document.offsetAt(editor.selection.active));
    if (JSON.stringify(next) === JSON.stringify(active)) return;
    active = next;
    promptChanged.fire(active);
  };
  void predictor.then((p) => {
    loaded = p;
    update(vscode.window.activeTextEditor);
  });

  const watchers = [TEST_LAYOUT.images + '/*.json', TEST_LAYOUT.ledger].map((glob, i) => {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, glob));
    const fire = () => (i === 0 ? galleryChanged : budgetChanged).fire();
    watcher.onDidCreate(fire);
    watcher.onDidChange(fire);
    watcher.onDidDelete(fire);
    return watcher;
  });

  context.subscriptions.push(
    promptChanged,
    metricChanged,
    budgetChanged,
    galleryChanged,
    ...watchers,
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.window.onDidChangeTextEditorSelection((e) => update(e.textEditor)),
    vscode.workspace.onDidChangeTextDocument((e) => {
      if (e.document === vscode.window.activeTextEditor?.document) update(vscode.window.activeTextEditor);
    }),
    vscode.commands.registerCommand(TEST_COMMANDS.setMetric, (id: string) => setMetric(id)),
    probe.provide('panelServices', () => ({ metric, activePrompt: active?.promptId ?? null, calls })),
  );

  function setMetric(id: string): void {
    if (id === metric) return;
    metric = id;
    calls.setMetric.push(id);
    metricChanged.fire(id);
  }

  const gallery = async (limit: number): Promise<GalleryItem[]> => {
    let names: string[];
    try {
      names = (await readdir(imagesDir)).filter((n) => n.endsWith('.json'));
    } catch {
      return [];
    }
    const items: GalleryItem[] = [];
    for (const name of names) {
      const sidecar = join(imagesDir, name);
      const doc = JSON.parse(await readFile(sidecar, 'utf8')) as Record<string, unknown>;
      if (doc.version !== 1 || typeof doc.image !== 'string') continue;
      const predicted = doc.predicted as GalleryItem['predicted'] | null;
      items.push({
        image: join(dirname(sidecar), doc.image),
        sidecar,
        id: String(doc.id),
        prompt: String(doc.prompt),
        route: doc.route === 'cloud' ? 'cloud' : 'edge',
        why: String(doc.why ?? ''),
        backend: String(doc.backend),
        model: String(doc.model),
        cost: Number(doc.cost) || 0,
        created: String(doc.createdAt),
        ...(predicted ? { predicted } : {}),
        ...(doc.measured ? { measured: doc.measured as Record<string, number> } : {}),
      });
    }
    return items.sort((a, b) => b.created.localeCompare(a.created)).slice(0, limit);
  };

  return {
    onDidChangeActivePrompt: promptChanged.event,
    getActivePrompt: () => active,
    onDidChangeMetric: metricChanged.event,
    getMetric: () => metric,
    setMetric,
    onDidChangeBudget: budgetChanged.event,
    async getBudget(): Promise<BudgetState> {
      const options = { file: ledgerFile, monthlyCap: TEST_LAYOUT.monthlyCap };
      const status = await Ledger.peek(options);
      let latest: LedgerEntry[] = [];
      try {
        const data = JSON.parse(await readFile(ledgerFile, 'utf8')) as { months: Record<string, { entries: LedgerEntry[] }> };
        latest = [...(data.months[status.month]?.entries ?? [])].reverse();
      } catch {
        // No ledger yet: nothing spent.
      }
      const month = monthKey(new Date());
      const images = (await gallery(1000)).filter((i) => monthKey(new Date(i.created)) === month);
      const cloud = images.filter((i) => i.route === 'cloud').length;
      return {
        month: status.month,
        cloudShare: { used: images.length ? cloud / images.length : 0, budget: TEST_LAYOUT.cloudShare, images: { edge: images.length - cloud, cloud } },
        money: { spent: status.spent, reserved: status.reserved, cap: status.cap, left: status.left, currency: 'USD' },
        latest,
      };
    },
    onDidChangeGallery: galleryChanged.event,
    getGallery: gallery,
    async getCalibration(): Promise<CalibrationState> {
      const p = await predictor;
      const evaluation = p.file.evaluation as (CalibrationState['evaluation'] & { curve?: CalibrationState['curve'] }) | undefined;
      return {
        modelName: p.name,
        modelDir: p.dir ?? '',
        encoder: `${p.file.encoder.id} v${p.file.encoder.version}`,
        metrics: p.metrics,
        data: { source: p.file.training.data.source, pairs: p.file.training.data.pairs },
        ...(evaluation ? { evaluation: { n: evaluation.n, routers: evaluation.routers } } : {}),
        ...(evaluation?.curve ? { curve: evaluation.curve } : {}),
      };
    },
    async startCalibration(): Promise<void> {
      calls.startCalibration++;
    },
    async openImage(image: string, sidecar?: string): Promise<void> {
      calls.openImage.push({ image, ...(sidecar ? { sidecar } : {}) });
      await vscode.commands.executeCommand('vscode.open', vscode.Uri.file(image), { preview: false });
      if (sidecar) await vscode.window.showTextDocument(vscode.Uri.file(sidecar), { viewColumn: vscode.ViewColumn.Beside, preview: true });
    },
  };
}

function promptAt(predictor: Predictor, document: vscode.TextDocument, offset: number): ActivePromptState | undefined {
  const { entries } = parsePromptInput(document.getText(), document.fileName, 't2i');
  const entry = entries.find((e) => offset >= e.source.start && offset <= e.source.end);
  if (!entry) return undefined;
  const prediction = predictor.predictSync(entry.prompt);
  const alpha = calibrateAlpha(predictor.prsReference, TEST_LAYOUT.cloudShare);
  const decision = decideRoute(prediction.prs, alpha, TEST_LAYOUT.cloudShare, { ...DEFAULT_POLICY, monthlyCap: TEST_LAYOUT.monthlyCap });
  return {
    uri: document.uri.toString(),
    range: { start: entry.source.start, end: entry.source.end, line: entry.source.line },
    promptId: entry.id,
    prompt: entry.prompt,
    prediction,
    decision,
    why: explainDecision(decision, TEST_LAYOUT.cloudShare),
    metrics: predictor.metrics,
    weights: predictor.normalisation.weights,
  };
}
