import { describeLabelSource, parseLabelSource } from '../learning/labelSource';
import { predictorPair } from '../learning/modelPair';
import type { ModelFile } from './format';
import { CROSS_VALIDATED_STOPPING_BELOW, STOPPING_FOLDS } from './train';

/** A model card (Markdown) written beside every trained predictor, from its own model.json. */

const f = (x: unknown, d = 3) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : '—');

interface Figures {
  apgr: number;
  cpt50: number;
  pgr50: number;
}

export function evaluationTable(evaluation: Record<string, unknown> | undefined): string {
  const routers = evaluation?.routers as Record<string, Figures> | undefined;
  if (!routers) return 'Not evaluated. Run `routet2i eval --data PAIRS --model DIR` or train with `--folds 5`.';
  const perFold = (evaluation?.folds as { perFold?: Record<string, { mean: Figures; sd: Figures }> } | undefined)
    ?.perFold;
  const rows = [
    '| router | APGR | CPT(50%) | PGR(50%) |' + (perFold ? ' APGR per fold (mean ± sd) |' : ''),
    '|---|---|---|---|' + (perFold ? '---|' : ''),
  ];
  for (const [name, r] of Object.entries(routers)) {
    const pf = perFold?.[name];
    rows.push(
      `| ${name} | ${f(r.apgr)} | ${f(r.cpt50)} | ${f(r.pgr50)} |` +
        (perFold ? ` ${pf ? `${f(pf.mean.apgr)} ± ${f(pf.sd.apgr)}` : '—'} |` : ''),
    );
  }
  return rows.join('\n');
}

/** How the epochs were chosen, in words (files from before `stopping` was recorded: by the rule then in force). */
function stoppingText(file: ModelFile): string {
  const t = file.training;
  const pairs = t.data.pairs;
  const stopping =
    t.stopping ??
    (pairs < CROSS_VALIDATED_STOPPING_BELOW && pairs >= 2 * STOPPING_FOLDS ? 'cross-validated' : 'holdout');
  if (stopping === 'fixed') return `${t.epochs} epochs (fixed)`;
  if (stopping === 'cross-validated') {
    return `epochs chosen on the mean validation curve of ${STOPPING_FOLDS} folds (${t.epochs} epochs, best ${t.bestEpoch}), then the final model trained on all ${pairs} pairs for ${t.bestEpoch} epochs`;
  }
  return `${t.epochs} epochs, best ${t.bestEpoch} (early stopping on a ${Math.round(Number(t.hyperparameters.validationFraction) * 100)}% validation split)`;
}

/** The labels and the model pair the training data records (rows only where recorded). */
function provenanceRows(file: ModelFile): string {
  const labels = parseLabelSource(file.training.data.labels);
  const pair = predictorPair(file);
  return (
    (labels ? `\n| labels | ${describeLabelSource(labels)} |` : '') +
    (pair ? `\n| model pair | ${pair.edge} (edge) → ${pair.cloud} (cloud) |` : '')
  );
}

function headRows(file: ModelFile): string {
  const t = file.training;
  const hp = t.hyperparameters;
  if (file.ridge) {
    const r = file.ridge;
    const groups = Object.entries(r.groups)
      .map(([g, w]) => `${g} ${w}`)
      .join(', ');
    return `| head | ridge regression (closed form) on ${r.features.length} prompt features: λ = ${r.lambda}; feature groups ${groups}; chosen by ${r.selection.method}${r.selection.innerApgr !== null ? ` (inner APGR ${f(r.selection.innerApgr)})` : ''} |
| training data | ${t.data.source}, ${t.data.pairs} pairs |${provenanceRows(file)}
| training | ${f(t.seconds, 2)} s |`;
  }
  const a = file.architecture!;
  return `| architecture | top-K ${a.topK}, gate rank ${a.rank}, hidden ${a.hidden}, word buckets ${a.wordBuckets} |
| training data | ${t.data.source}, ${t.data.pairs} pairs |${provenanceRows(file)}
| training | Adam, lr ${hp.learningRate}, batch ${hp.batchSize}, weight decay ${hp.weightDecay}, gap weight ${hp.gapWeight}, seed ${hp.seed}; ${stoppingText(file)}, ${f(t.seconds, 1)} s |`;
}

export function renderModelCard(file: ModelFile, extra = ''): string {
  const ev = file.evaluation;
  const evalLine = ev
    ? ev.folds
      ? `${(ev.folds as { k: number }).k}-fold cross-validation (seed ${(ev.folds as { seed: number }).seed}) on ${ev.n} pairs; metrics ${(ev.metrics as string[]).join(', ')}; quality = their mean.`
      : `On ${ev.n} pairs; metrics ${(ev.metrics as string[]).join(', ')}.`
    : '';
  return `# Model card: ${file.name}

${file.description ?? ''}

| | |
|---|---|
| format | ${file.format} v${file.version} |
| created | ${file.created} |
| encoder | ${file.encoder.id} v${file.encoder.version} (${file.encoder.dim} features per token) |
| metrics | ${file.metrics.map((m) => `${m.id} (${m.label})`).join(', ')} |
${headRows(file)}
| PRS | Γ = ${file.normalisation.gamma}; weights ${Object.entries(file.normalisation.weights)
    .map(([k, v]) => `${k} ${f(v, 2)}`)
    .join(', ')} |

## Evaluation

${evalLine}

${evaluationTable(ev)}

APGR is the area under the performance-gap-recovered curve over cloud shares 0…1 (0.5 = random, 1 = perfect);
CPT(50%) is the cloud share needed to recover half the edge–cloud gap (lower is better); PGR(50%) is the gap
recovered when half the prompts go to the cloud. \`random\` is the expected value of random routing; \`length\`
sends longer prompts to the cloud first; \`oracle\` knows the true gaps.
${extra}`;
}
