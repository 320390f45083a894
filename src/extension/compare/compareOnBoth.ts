// "RouteT2I: Compare on Both": renders the prompt at the cursor on the edge and on the cloud with the same seed, through
// the one metered call (the cloud call is booked in the ledger), measures both images with the workspace's CLIP
// metrics, shows them side by side with their scores, and adds the measurement to the workspace's pairs log — so the
// router learns the pair in use from the user's own comparisons (docs/calibration.md).
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { writeFileAtomicSync } from '../../router/atomicWrite';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { Backend, GenerationResult } from '../../backends/types';
import { stableSeed } from '../../generation/collect';
import { Ledger } from '../../generation/ledger';
import { meteredGenerate } from '../../generation/metered';
import { CancelledError, RouteT2IError } from '../../router/errors';
import { describeLabelSource, parseLabelSource, sameLabelSource } from '../../router/learning/labelSource';
import { DEFAULT_METRICS, type Metric } from '../../router/metrics';
import type { Scores } from '../../router/types';
import type { Secrets } from '../apiKeys/secrets';
import { scorerLabels, type WorkLearning } from '../calibrate/learning';
import { outputStem, requestFor } from '../generate/generationPlan';
import { fixed, money } from '../../shared/presentation';
import { bothBackends, type PolicyState } from '../policy/policyState';
import type { PredictorHost } from '../predictor/predictorHost';
import type { AnalysedDocuments } from '../prompts/analysedDocuments';
import type { Config } from '../settings/config';

export interface Compared {
  prompt: string;
  seed: number;
  edge: { image: string; scores: Scores; backend: string; model: string };
  cloud: { image: string; scores: Scores; backend: string; model: string; cost: number };
}

const EXT: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp' };

export class CompareOnBoth implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  last: Compared | undefined;

  constructor(
    private readonly documents: AnalysedDocuments,
    private readonly predictors: PredictorHost,
    private readonly config: Config,
    private readonly policy: PolicyState,
    private readonly secrets: Secrets,
    private readonly learning: WorkLearning,
    private readonly log: vscode.LogOutputChannel,
  ) {}

  dispose(): void {
    this.panel?.dispose();
  }

  async run(): Promise<Compared | undefined> {
    void vscode.commands.executeCommand('setContext', 'routet2i.comparing', true);
    try {
      return await this.compare();
    } catch (error) {
      if (error instanceof CancelledError) return undefined;
      throw error;
    } finally {
      void vscode.commands.executeCommand('setContext', 'routet2i.comparing', false);
    }
  }

  private async compare(): Promise<Compared | undefined> {
    const editor = vscode.window.activeTextEditor;
    const doc = editor?.document;
    const prompt = doc && this.documents.promptAt(doc, editor.selection.active);
    if (!editor || !doc || !prompt)
      throw new RouteT2IError(
        'no-prompt',
        'there is no prompt at the cursor',
        'put the cursor in a prompt of a .t2i file',
      );
    const settings = this.config.settings;
    const { edge, cloud } = await bothBackends(
      settings,
      this.secrets,
      'Compare on Both renders the prompt on your edge and your cloud backend',
    );
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new RouteT2IError('no-folder', 'Compare on Both needs an open folder to save both images in');
    const where = vscode.workspace.asRelativePath(doc.uri);
    const base = requestFor(prompt, settings.generation, where);
    // The same seed on both sides: the prompt's own (front matter), else one derived from its text.
    const seed = base.seed ?? stableSeed(prompt.entry.prompt);
    const request = { ...base, seed };
    const estimate = cloud.estimateCost(request) + edge.estimateCost(request);
    const go = await vscode.window.showInformationMessage(
      `Render this prompt on both ${edge.name} and ${cloud.name} (seed ${seed})?`,
      {
        modal: true,
        detail: `Estimated ${money(estimate)}, booked in the ledger. Both images are scored with CLIP and the measurement joins this workspace's pairs, from which RouteT2I learns your pair.`,
      },
      'Compare',
    );
    if (go !== 'Compare') return undefined;
    const outDir = path.resolve(folder.uri.fsPath, settings.generation.outputFolder, 'compare');
    const stem = outputStem(path.basename(doc.uri.path), prompt.entry.id, new Date());
    return vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'RouteT2I: Compare on Both', cancellable: true },
      async (progress, token) => {
        const abort = new AbortController();
        const sub = token.onCancellationRequested(() => abort.abort());
        try {
          const { ledger } = await Ledger.open({
            file: this.policy.ledgerFile,
            monthlyCap: settings.policy.monthlyCap,
          });
          progress.report({ message: `rendering on ${edge.name} and ${cloud.name}…` });
          const render = async (b: Backend): Promise<GenerationResult> => {
            const outcome = await meteredGenerate(b, request, {
              ledger,
              note: `compare ${prompt.entry.id}`,
              signal: abort.signal,
              onWarning: (m) => this.log.warn(m),
            });
            if (!outcome.ok)
              throw new RouteT2IError(
                'compare-failed',
                `${b.name}: ${outcome.error.message}${outcome.booked ? ` (${money(outcome.cost)} stays booked: the provider may have charged it)` : ''}`,
              );
            return outcome.result;
          };
          // Both at once: they are different machines; each books its own money whatever the other does.
          const settled = await Promise.allSettled([render(edge), render(cloud)]);
          const [e, c] = settled.map((s) => {
            if (s.status === 'rejected') throw s.reason;
            return s.value;
          }) as [GenerationResult, GenerationResult];
          void this.policy.refresh();
          fs.mkdirSync(outDir, { recursive: true });
          const save = (side: string, r: GenerationResult): string => {
            const file = path.join(outDir, `${stem}.${side}.${EXT[r.mime] ?? 'img'}`);
            writeFileAtomicSync(file, r.image);
            return file;
          };
          const edgeFile = save('edge', e);
          const cloudFile = save('cloud', c);
          progress.report({ message: 'measuring both images with CLIP…' });
          const metrics: Metric[] = settings.calibration.metrics ?? [...DEFAULT_METRICS];
          const { MetricScorer } = await import('../../runtime/scorer');
          const { defaultCacheDir } = await import('../../runtime/modelStore');
          const modelsDir = settings.model.modelsDir
            ? path.resolve(folder.uri.fsPath, settings.model.modelsDir)
            : undefined;
          const scorer = await MetricScorer.create({
            ...(modelsDir ? { modelsDir } : { cacheDir: defaultCacheDir() }),
            metrics,
            signal: abort.signal,
          });
          let edgeScores: Scores;
          let cloudScores: Scores;
          let labels;
          try {
            edgeScores = await scorer.score(e.image, prompt.entry.prompt, { name: edgeFile, signal: abort.signal });
            cloudScores = await scorer.score(c.image, prompt.entry.prompt, { name: cloudFile, signal: abort.signal });
            labels = scorerLabels(scorer.model, metrics);
          } finally {
            await scorer.dispose();
          }
          const compared: Compared = {
            prompt: prompt.entry.prompt,
            seed,
            edge: { image: edgeFile, scores: edgeScores, backend: e.backend, model: e.model },
            cloud: { image: cloudFile, scores: cloudScores, backend: c.backend, model: c.model, cost: c.cost },
          };
          this.learning.measured(
            compared.prompt,
            edgeScores,
            cloudScores,
            { edge: { backend: edge.name, model: edge.model }, cloud: { backend: cloud.name, model: cloud.model } },
            labels,
            'compare',
            seed,
          );
          this.log.info(
            `Compare on Both: ${prompt.entry.id} (seed ${seed}) edge ${edge.name} ${JSON.stringify(edgeScores)}, cloud ${cloud.name} ${JSON.stringify(cloudScores)}, ${money(c.cost + e.cost)} spent`,
          );
          this.last = compared;
          this.show(compared, metrics, describeLabelSource(labels), this.predictedOnSameScorer(labels));
          return compared;
        } finally {
          sub.dispose();
        }
      },
    );
  }

  /** A measured score is set beside a predicted one only when the predictor learned from the same scorer. */
  private predictedOnSameScorer(labels: ReturnType<typeof scorerLabels>): string {
    const file = this.predictors.engine?.predictor.file;
    const learned = parseLabelSource(file?.training?.data?.labels);
    if (learned && sameLabelSource(learned, labels)) return '';
    return `The predictor in use learned ${describeLabelSource(learned)}, not these CLIP scores, so its predictions are not set beside them.`;
  }

  private show(c: Compared, metrics: readonly Metric[], scorer: string, note: string): void {
    if (!this.panel) {
      const roots = [vscode.Uri.file(path.dirname(c.edge.image))];
      this.panel = vscode.window.createWebviewPanel(
        'routet2i.compare',
        'RouteT2I: Compare on Both',
        vscode.ViewColumn.Beside,
        { enableScripts: false, localResourceRoots: roots },
      );
      this.panel.onDidDispose(() => (this.panel = undefined));
    }
    const w = this.panel.webview;
    const nonce = randomBytes(16).toString('base64');
    const esc = (s: string) =>
      s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);
    const measured = metrics.filter((m) => m.id in c.edge.scores || m.id in c.cloud.scores);
    // Named, never scored as something else: a metric the scorer did not measure (alignment without a prompt…).
    const missing = metrics.filter((m) => !(m.id in c.edge.scores && m.id in c.cloud.scores)).map((m) => m.label);
    const rows = measured
      .map(
        (m) =>
          `<tr><td>${esc(m.label)}</td><td>${fixed(c.edge.scores[m.id] ?? NaN)}</td><td>${fixed(c.cloud.scores[m.id] ?? NaN)}</td></tr>`,
      )
      .join('');
    const src = (file: string) => w.asWebviewUri(vscode.Uri.file(file)).toString();
    w.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src ${w.cspSource}; style-src 'nonce-${nonce}';">
<style nonce="${nonce}">.row{display:flex;gap:12px}.row figure{flex:1;margin:0}img{max-width:100%}td,th{padding:2px 8px;text-align:right}td:first-child,th:first-child{text-align:left}</style></head>
<body><p>${esc(c.prompt)}</p><p>Seed ${c.seed}; measured by ${esc(scorer)}.</p>
<div class="row"><figure><img alt="edge image" src="${src(c.edge.image)}"><figcaption>Edge: ${esc(c.edge.backend)} (${esc(c.edge.model)})</figcaption></figure>
<figure><img alt="cloud image" src="${src(c.cloud.image)}"><figcaption>Cloud: ${esc(c.cloud.backend)} (${esc(c.cloud.model)}), ${money(c.cloud.cost)}</figcaption></figure></div>
<table><tr><th>Metric</th><th>Edge</th><th>Cloud</th></tr>${rows}</table>
${missing.length ? `<p>Not measured by this scorer: ${esc(missing.join(', '))}.</p>` : ''}${note ? `<p>${esc(note)}</p>` : ''}</body></html>`;
    this.panel.reveal(vscode.ViewColumn.Beside, true);
  }
}
