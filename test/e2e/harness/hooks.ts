// Mocha root hooks for the e2e run (loaded by .mocharc.e2e.json): prepare once, screenshot every failure, and stop
// every process and remove every temporary folder at the end, whatever happened.
import type { Context } from 'mocha';
import { prepareEnvironment, preparedEnvironment } from './environment';
import { stopAll, trackedGroups } from './processes';
import { say } from './say';
import { currentSession } from './session';

export async function mochaGlobalSetup(): Promise<void> {
  await prepareEnvironment();
}

export async function mochaGlobalTeardown(): Promise<void> {
  const left = trackedGroups().length;
  if (left > 0) say(`stopping ${left} process group(s) left running`);
  await stopAll();
  const env = preparedEnvironment();
  if (env) say(`screenshots and logs: ${env.artifactsDir}`);
}

export const mochaHooks = {
  async afterEach(this: Context): Promise<void> {
    const test = this.currentTest;
    const session = currentSession();
    if (test?.state !== 'failed' || !session) return;
    try {
      const file = await session.screenshot(`FAILED-${test.title}`);
      say(`failure screenshot: ${file}`);
    } catch (error) {
      say(`could not take a failure screenshot: ${(error as Error).message}`);
    }
  },
};
