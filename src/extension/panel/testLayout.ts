// Where the panel's test-only services (testServices.ts) find their data, shared with the end-to-end suite's
// fixtures; no `vscode` here, so the suite (plain Node) imports it too.
import { DEFAULT_POLICY } from '../../router/policy';

/** Workspace-relative places the suite's fixtures use. */
export const TEST_LAYOUT = {
  images: 'generated',
  ledger: '.routet2i/ledger.json',
  monthlyCap: 10,
  cloudShare: DEFAULT_POLICY.cloudShare,
} as const;

/** Commands the suite runs through the probe to act as the editor would. */
export const TEST_COMMANDS = { setMetric: 'routet2i.test.panel.setMetric' } as const;

