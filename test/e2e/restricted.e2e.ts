// In a folder the user does not trust, VS Code runs in Restricted Mode and so does RouteT2I, visibly; trusting the
// folder lifts it.
import assert from 'node:assert/strict';
import { useSession } from './harness/session';

describe('untrusted workspace', function () {
  // Workspace trust on, and no start-up question: a folder nobody trusted yet opens in Restricted Mode.
  const session = useSession({
    label: 'restricted-mode',
    trusted: false,
    settings: { 'security.workspace.trust.startupPrompt': 'never' },
  });

  it('opens in Restricted Mode', async () => {
    const { page, workbench } = session();
    const indicator = await workbench.statusBarItem('status.workspaceTrust', /Restricted Mode/);
    assert.match(indicator.text, /Restricted Mode/);
    assert.match(await page.locator('.monaco-workbench .banner').innerText(), /Restricted Mode/);
  });

  it('activates on a .t2i file and reports Restricted Mode in its state and its log', async () => {
    const { workbench, probe } = session();
    await workbench.openFile('examples/portraits.t2i');
    await workbench.languageMode(/T2I Prompt/);
    await probe.waitReady();
    assert.deepEqual(await probe.call('trust', {}), { isTrusted: false });
    const { extension } = (await probe.call('state', {})) as { extension: { restricted: boolean } };
    assert.equal(extension.restricted, true);
    const text = await workbench.outputChannel('RouteT2I', /activated in/);
    assert.match(
      text,
      /activated in [\d.]+ ms \(load [\d.]+ ms, activate [\d.]+ ms; Restricted Mode: this workspace is not trusted/,
    );
    await session().screenshot('restricted-mode');
  });

  it('leaves Restricted Mode when the user trusts the folder', async () => {
    const { page, workbench, probe } = session();
    await workbench.runCommand('Workspaces: Manage Workspace Trust');
    const trustButton = page.getByRole('button', { name: /^Trust$/ }).first();
    await trustButton.waitFor({ state: 'visible' });
    await session().screenshot('manage-trust');
    await trustButton.click();
    const deadline = Date.now() + 15_000;
    while (!(await probe.call('trust', {})).isTrusted) {
      assert.ok(Date.now() < deadline, 'the extension host never saw the folder trusted');
      await page.waitForTimeout(100);
    }
    const { extension } = (await probe.call('state', {})) as { extension: { restricted: boolean } };
    assert.equal(extension.restricted, false);
    await workbench.statusBarItem('status.problems');
    assert.equal(
      (await workbench.statusBar()).some((i) => i.id === 'status.workspaceTrust'),
      false,
      'Restricted Mode indicator still shown',
    );
    await workbench.closeModalEditor();
    await workbench.outputChannel('RouteT2I', /Workspace trusted: leaving Restricted Mode/);
    await session().screenshot('trusted');
  });
});
