// RouteT2I's command ids, once: the extension registers them, lenses, quick fixes, buttons and messages name them, and
// test/unit/packaging.test.ts checks this list against package.json's `contributes.commands`.
export const COMMANDS = {
  generate: 'routet2i.generate',
  generateSelection: 'routet2i.generateSelection',
  generateFile: 'routet2i.generateFile',
  generateOnEdge: 'routet2i.generateOnEdge',
  generateOnCloud: 'routet2i.generateOnCloud',
  generatePrompt: 'routet2i.generatePrompt',
  chooseMetric: 'routet2i.chooseMetric',
  toggleHeat: 'routet2i.toggleHeat',
  setApiKey: 'routet2i.setApiKey',
  setGatewayKey: 'routet2i.setGatewayKey',
  openPanel: 'routet2i.openPanel',
  calibrate: 'routet2i.calibrate',
  uncalibratedHelp: 'routet2i.uncalibratedHelp',
  useCascadeMode: 'routet2i.useCascadeMode',
  compareOnBoth: 'routet2i.compareOnBoth',
  ignoreWord: 'routet2i.ignoreWord',
  newPromptFile: 'routet2i.newPromptFile',
  showLog: 'routet2i.showLog',
} as const;

export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];
