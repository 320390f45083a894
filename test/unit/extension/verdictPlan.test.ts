import { strict as assert } from 'node:assert';
import type { Backend } from '../../../src/backends/types';
import { Dispatcher } from '../../../src/generation/dispatcher';
import { lensTitle } from '../../../src/extension/language/texts';
import { policyView, verdictOf } from '../../../src/extension/verdict/verdict';
import { validatePolicy, type GenerationMode } from '../../../src/router/policy';
import type { Prediction, Side } from '../../../src/router/types';

/**
 * The verdict the editor shows for a prompt is what Generate Prompt at Cursor does with it: the dispatcher's plan of that
 * one prompt, for every combination of backends set, `# route:` lines and modes (the issue's case: only a cloud backend
 * and a prompt the edge wins, which the old copy showed as "→ edge" while Generate paid the cloud).
 */

function backend(side: 'edge' | 'cloud', price: number): Backend {
  return {
    name: side === 'edge' ? 'comfyui' : 'openai',
    side,
    model: 'm',
    estimateCost: () => price,
    health: async () => ({ ok: true, detail: '' }),
    generate: async () => Promise.reject(new Error('not in a plan')),
  };
}

function prediction(prs: number): Prediction {
  return {
    edge: { q: 0.6 },
    cloud: { q: 0.7 },
    prs,
    pareto: prs < 0.5 ? 'cloud-dominates' : 'edge-dominates',
    tokens: [],
  } as unknown as Prediction;
}

describe('the verdict is the plan of that one prompt', () => {
  const policy = validatePolicy({ cloudShare: 0.3 }, 'test');
  const history = [0.2, 0.4, 0.5, 0.6, 0.8];
  for (const mode of ['predict', 'cascade', 'hybrid'] as GenerationMode[]) {
    for (const sides of [
      { edge: true, cloud: false },
      { edge: false, cloud: true },
      { edge: true, cloud: true },
    ]) {
      for (const route of [undefined, 'edge', 'cloud'] as (Side | undefined)[]) {
        for (const prs of [0.1, 0.45, 0.7]) {
          const name = `${mode}, ${sides.edge ? 'edge' : ''}${sides.edge && sides.cloud ? ' + ' : ''}${sides.cloud ? 'cloud' : ''}${route ? `, # route: ${route}` : ''}, PRS ${prs}`;
          it(name, () => {
            const edge = sides.edge ? backend('edge', 0) : undefined;
            const cloud = sides.cloud ? backend('cloud', 0.04) : undefined;
            const view = policyView(policy, history, {
              committed: 0,
              cloudPrice: 0.04,
              cloudConfigured: sides.cloud,
              edgeConfigured: sides.edge,
              mode,
              hybridBand: 0.1,
            });
            const verdict = verdictOf(prediction(prs), { q: 1 }, view, route);
            const d = new Dispatcher({
              mode,
              policy,
              edge,
              cloud,
              history,
              cascadeThreshold: null,
              hybridBand: 0.1,
              fallback: 'edge',
            });
            const item = {
              id: 'p1',
              request: { prompt: 'a prompt', width: 512, height: 512 },
              prediction: prediction(prs),
              ...(route ? { force: { side: route, why: `"# route: ${route}" in the file` } } : {}),
            };
            let planned;
            try {
              planned = d.plan([item]).entries[0]!;
            } catch (e) {
              // Generate refuses a `# route:` to a side without a backend; the verdict says so.
              assert.ok(route && !sides[route], (e as Error).message);
              assert.match(verdict.why, new RegExp(`no ${route} backend is configured`));
              assert.equal(verdict.refused, true);
              assert.match(lensTitle(verdict), new RegExp(`→ ${route} \\(set in file, but no ${route} backend\\)$`));
              return;
            }
            assert.equal(verdict.refused, undefined);
            assert.equal(verdict.route, planned.action === 'cascade' ? 'edge' : planned.action);
            assert.equal(verdict.cascade ?? false, planned.action === 'cascade');
            assert.equal(verdict.why, planned.why);
          });
        }
      }
    }
  }

  it('with only a cloud backend, a prompt the edge wins is shown going to the cloud, as Generate sends it', () => {
    const view = policyView(policy, history, {
      committed: 0,
      cloudPrice: 0.04,
      cloudConfigured: true,
      edgeConfigured: false,
    });
    const v = verdictOf(prediction(0.7), { q: 1 }, view);
    assert.equal(v.decision.route, 'edge');
    assert.equal(v.route, 'cloud');
    assert.match(v.why, /^no edge backend configured/);
  });
});
