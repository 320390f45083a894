// The real-editor suite (npm run test:e2e). Run one file with `npm run test:e2e -- test/e2e/<name>.e2e.ts`: mocha
// would add a file named on the command line to the configured spec, so the default applies only when none is named.
const named = process.argv.slice(2).some((arg) => /\.e2e\.ts$/.test(arg));

module.exports = {
  require: ['tsx/cjs', 'test/e2e/harness/hooks.ts'],
  extension: ['ts'],
  spec: named ? [] : ['test/e2e/**/*.e2e.ts'],
  timeout: 60000,
  slow: 15000,
  reporter: 'spec',
  exit: true,
};
