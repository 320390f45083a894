// What a test does and reads in the VS Code window, as a user would: the palette, quick open, the status bar, hovers,
// the Problems view, notifications, the Output view, webviews, settings and the colour theme.
import { readFileSync } from 'node:fs';
import type { Frame, Locator, Page } from 'playwright-core';
import type { CodeServer } from './codeServer';
import type { ProbeClient } from './probe';

export interface StatusBarItem {
  id: string;
  text: string;
  ariaLabel: string;
}

export interface ProblemRow {
  /** What a screen reader hears, e.g. "Warning: … at line 3 column 7". */
  ariaLabel: string;
  text: string;
}

export interface RunningExtension {
  /** Display name, e.g. "RouteT2I". */
  name: string;
  /** Activated at start-up ("*" or onStartupFinished) rather than on an event. */
  startup: boolean;
  activationMs?: number;
  text: string;
}

export type ThemeKind = 'light' | 'dark' | 'hc-dark' | 'hc-light';

/** Theme labels as the Color Theme picker of VS Code 1.139 shows them. */
export const THEMES: Record<ThemeKind, string> = {
  light: 'Light Modern',
  dark: 'Dark Modern',
  'hc-dark': 'Dark High Contrast',
  'hc-light': 'Light High Contrast',
};

/** Visible text with Monaco's non-breaking spaces turned back into spaces. */
const plain = (text: string): string => text.replace(/\u00a0/g, ' ');

export class Workbench {
  constructor(
    readonly page: Page,
    readonly server: CodeServer,
    readonly probe: ProbeClient,
  ) {}

  async waitReady(timeoutMs = 60_000): Promise<void> {
    await this.page.locator('.monaco-workbench').waitFor({ timeout: timeoutMs });
    // The status bar is filled once the workbench has restored its parts.
    await this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').first().waitFor({ timeout: timeoutMs });
  }

  // ---- commands and files -------------------------------------------------------------------------------------------

  private quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /**
   * Opens the quick input with `text` typed (or, when `fresh` is false, types into the pick already open) and returns
   * the row whose label satisfies `match`.
   */
  private async quickPick(
    text: string,
    match: (label: string, description: string) => boolean,
    what: string,
    timeoutMs: number,
    fresh = true,
  ): Promise<Locator> {
    const widget = this.quickInput();
    const input = widget.locator('input').first();
    /** Opens the palette (from closed, whatever an earlier step left open) with `text` typed. */
    const open = async (): Promise<void> => {
      if (await widget.isVisible()) {
        await this.page.keyboard.press('Escape');
        await widget.waitFor({ state: 'hidden', timeout: timeoutMs });
      }
      await this.page.keyboard.press('F1');
      await input.waitFor({ state: 'visible', timeout: timeoutMs });
      await input.fill(text, { timeout: 5_000 });
    };
    if (fresh) {
      if (await this.modalEditor().isVisible()) {
        throw new Error(
          `cannot open the palette for ${what}: a modal editor is open (close it with closeModalEditor())`,
        );
      }
      // A webview that takes the focus a moment after a click closes the palette it just opened: open it again.
      for (let attempt = 1; ; attempt++) {
        try {
          await open();
          break;
        } catch (error) {
          if (attempt >= 3) throw error;
          await this.page.waitForTimeout(300);
        }
      }
    } else {
      await input.waitFor({ state: 'visible', timeout: timeoutMs });
      await input.fill(text);
    }
    const rows = widget.locator('.monaco-list-row');
    const deadline = Date.now() + timeoutMs;
    let reopenAt = Date.now() + 3_000;
    for (;;) {
      const count = await rows.count();
      for (let i = 0; i < count; i++) {
        const row = rows.nth(i);
        const label = plain(
          (await row
            .locator('.label-name, .monaco-highlighted-label')
            .first()
            .textContent()
            .catch(() => '')) ?? '',
        );
        const description = plain(
          (await row
            .locator('.label-description')
            .first()
            .textContent({ timeout: 100 })
            .catch(() => '')) ?? '',
        );
        if (match(label.trim(), description.trim())) return row;
      }
      if (Date.now() > deadline) {
        const seen = plain((await rows.allInnerTexts()).slice(0, 8).join(' | '));
        await this.page.keyboard.press('Escape');
        throw new Error(`${what} not found in the quick input (showing: ${seen || 'nothing'})`);
      }
      // The palette lists the commands registered when it opened, and the workbench registers some of its own (Output,
      // for one) only once it has settled, which under load can be seconds after the window shows. Reopen it now and then.
      if (fresh && Date.now() > reopenAt) {
        await open().catch(() => undefined);
        reopenAt = Date.now() + 3_000;
      }
      await this.page.waitForTimeout(100);
    }
  }

  /** Runs a command from the palette by its full title as the palette shows it, e.g. "RouteT2I: Show Log". */
  async runCommand(title: string, timeoutMs = 15_000): Promise<void> {
    const query = `>${title}`;
    const row = await this.quickPick(query, (label) => label === title, `command "${title}"`, timeoutMs);
    await row.click();
    // The pointer stays where the row was; once the palette closes it would rest on whatever lies beneath (an editor
    // tab, say) and open that tooltip over the next thing a scenario clicks. Park it in the corner, as hoverAt does.
    await this.page.mouse.move(1, 1);
    // Done when the palette closed or moved on to a pick of the command's own.
    const widget = this.quickInput();
    const input = widget.locator('input').first();
    const deadline = Date.now() + timeoutMs;
    while ((await widget.isVisible()) && (await input.inputValue().catch(() => '')) === query) {
      if (Date.now() > deadline) throw new Error(`the palette did not run "${title}"`);
      await this.page.waitForTimeout(50);
    }
  }

  /** Chooses an item in a quick pick that a command opened (e.g. a metric, an output channel). */
  async pick(label: string | RegExp, timeoutMs = 15_000): Promise<void> {
    const match = (l: string): boolean => (typeof label === 'string' ? l === label : label.test(l));
    const row = await this.quickPick(typeof label === 'string' ? label : '', match, `item ${label}`, timeoutMs, false);
    await row.click();
    await this.quickInput().waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  /** Opens a workspace file through quick open (path relative to the workspace), and waits for its editor. */
  async openFile(relativePath: string, timeoutMs = 20_000): Promise<void> {
    const parts = relativePath.split('/');
    const name = parts.pop()!;
    const dir = parts.join('/');
    // The same name may exist in several folders: the row's description is its folder ('' at the top). On a loaded
    // machine VS Code may still be building its file index, and Quick Open then lists no file or only its heading:
    // ask again (at most three times) rather than fail.
    for (let attempt = 1; ; attempt++) {
      try {
        const row = await this.quickPick(
          relativePath,
          (label, description) => label === name && description === dir,
          `file "${relativePath}"`,
          timeoutMs,
        );
        await row.click();
        break;
      } catch (error) {
        if (attempt >= 3 || !/not found in the quick input/.test((error as Error).message)) throw error;
        await this.page.keyboard.press('Escape');
      }
    }
    await this.page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: timeoutMs });
    await this.activeEditor().locator('.view-lines').waitFor({ timeout: timeoutMs });
  }

  activeEditor(): Locator {
    return this.page.locator('.editor-group-container.active .editor-instance .monaco-editor').first();
  }

  /** The visible lines of the active editor. */
  async editorLines(): Promise<string[]> {
    const lines = await this.activeEditor()
      .locator('.view-line')
      .evaluateAll((els) =>
        els
          .map((el) => ({ top: parseFloat(el.style.top || '0'), text: el.innerText }))
          .sort((a, b) => a.top - b.top)
          .map((l) => l.text),
      );
    return lines.map(plain);
  }

  /** Waits until a visible line of the active editor equals `line` (or matches it), and returns the lines. */
  async waitForEditorLine(line: string | RegExp, timeoutMs = 10_000): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const lines = await this.editorLines();
      if (lines.some((l) => (typeof line === 'string' ? l === line : line.test(l)))) return lines;
      if (Date.now() > deadline) throw new Error(`the editor shows no line ${line}; it shows:\n${lines.join('\n')}`);
      await this.page.waitForTimeout(100);
    }
  }

  // ---- status bar ---------------------------------------------------------------------------------------------------

  async statusBar(): Promise<StatusBarItem[]> {
    const items = await this.page.locator('#workbench\\.parts\\.statusbar .statusbar-item').evaluateAll((els) =>
      els.map((el) => ({
        id: el.id,
        text: el.innerText,
        ariaLabel: el.querySelector('[aria-label]')?.getAttribute('aria-label') ?? el.getAttribute('aria-label') ?? '',
      })),
    );
    return items.map((i) => ({ ...i, text: plain(i.text).trim() }));
  }

  /**
   * Waits for a status bar item whose id or text matches and whose text satisfies `text` (when given). Ids are
   * `status.editor.mode` for the language, `status.workspaceTrust` for Restricted Mode, `<publisher>.<name>.<id>` for an
   * extension's items.
   */
  async statusBarItem(idOrText: string | RegExp, text?: RegExp, timeoutMs = 15_000): Promise<StatusBarItem> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const items = await this.statusBar();
      const found = items.find((i) => {
        const named =
          typeof idOrText === 'string'
            ? i.id === idOrText || i.text === idOrText
            : idOrText.test(i.id) || idOrText.test(i.text);
        return named && (!text || text.test(i.text));
      });
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `no status bar item ${idOrText}${text ? ` with text ${text}` : ''}; have: ${items.map((i) => `${i.id}="${i.text}"`).join(', ')}`,
        );
      }
      await this.page.waitForTimeout(100);
    }
  }

  /** The language mode of the active editor, as the status bar shows it (the language's first alias). */
  async languageMode(expected?: RegExp, timeoutMs = 15_000): Promise<string> {
    return (await this.statusBarItem('status.editor.mode', expected, timeoutMs)).text;
  }

  // ---- hovers -------------------------------------------------------------------------------------------------------

  /** Moves the mouse onto the `occurrence`-th visible `word` in the active editor and returns the hover's text. */
  async hoverAt(word: string, options: { occurrence?: number; timeoutMs?: number } = {}): Promise<string> {
    const { occurrence = 1, timeoutMs = 10_000 } = options;
    // Move away first, so that an earlier hover closes and a new one opens.
    await this.page.mouse.move(1, 1);
    await this.page
      .locator('.monaco-hover:not(.hidden) .monaco-hover-content')
      .waitFor({ state: 'hidden', timeout: timeoutMs })
      .catch(() => undefined);
    const box = await this.activeEditor().evaluate(
      (editor, { word, occurrence }) => {
        // Runs in the page; the project compiles without the DOM library.
        const doc = (globalThis as { document?: any }).document;
        let seen = 0;
        const lines = [...editor.querySelectorAll('.view-line')].sort(
          (a: { style: { top: string } }, b: { style: { top: string } }) =>
            parseFloat(a.style.top || '0') - parseFloat(b.style.top || '0'),
        );
        for (const line of lines) {
          // A word may span several spans (tokens, decorations): search the line's text, then map back to nodes.
          const nodes: { node: unknown; start: number; text: string }[] = [];
          let full = '';
          const walker = doc.createTreeWalker(line, 4 /* NodeFilter.SHOW_TEXT */);
          for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            const text = String(node.textContent ?? '').replace(/\u00a0/g, ' ');
            nodes.push({ node, start: full.length, text });
            full += text;
          }
          for (let at = full.indexOf(word); at >= 0; at = full.indexOf(word, at + 1)) {
            if (++seen < occurrence) continue;
            // No named inner functions here: the test runner's transpiler would wrap them in a helper the page lacks.
            const first = nodes.find((n) => at < n.start + n.text.length)!;
            const last = nodes.find((n) => at + word.length <= n.start + n.text.length)!;
            const range = doc.createRange();
            range.setStart(first.node, at - first.start);
            range.setEnd(last.node, at + word.length - last.start);
            const r = range.getBoundingClientRect();
            return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
          }
        }
        return null;
      },
      { word, occurrence },
    );
    if (!box) throw new Error(`"${word}" (occurrence ${occurrence}) is not visible in the active editor`);
    await this.page.mouse.move(box.x, box.y, { steps: 4 });
    const hover = this.page.locator('.monaco-hover:not(.hidden) .monaco-hover-content').first();
    await hover.waitFor({ state: 'visible', timeout: timeoutMs });
    // Hover parts render in turn (diagnostics, then providers): wait until the text stops changing.
    let text = '';
    for (let i = 0; i < 20; i++) {
      const now = plain(await hover.innerText());
      if (now === text && now.trim()) break;
      text = now;
      await this.page.waitForTimeout(150);
    }
    return text;
  }

  // ---- Problems view ------------------------------------------------------------------------------------------------

  /** Opens the Problems view and returns its rows (files and their problems), waiting for at least `minRows`. */
  async problems(minRows = 0, timeoutMs = 15_000): Promise<ProblemRow[]> {
    const panel = this.page.locator('.markers-panel');
    if (!(await panel.isVisible())) {
      await this.page.locator('#status\\.problems .statusbar-item-label, #status\\.problems a').first().click();
      await panel.waitFor({ state: 'visible', timeout: timeoutMs });
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await panel
        .locator('.monaco-list-row')
        .evaluateAll((els) =>
          els.map((el) => ({ ariaLabel: el.getAttribute('aria-label') ?? '', text: el.innerText })),
        );
      if (rows.length >= minRows || Date.now() > deadline) return rows.map((r) => ({ ...r, text: plain(r.text) }));
      await this.page.waitForTimeout(150);
    }
  }

  // ---- notifications ------------------------------------------------------------------------------------------------

  /** Waits for a notification toast whose text matches, and returns it (its buttons are `toast.getByRole('button')`). */
  async waitForNotification(text: string | RegExp, timeoutMs = 15_000): Promise<Locator> {
    const toast = this.page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
    await toast.waitFor({ state: 'visible', timeout: timeoutMs });
    return toast;
  }

  /** Waits for a modal dialog whose text matches; click one of its buttons with `dialog.getByRole('button', …)`. */
  async waitForDialog(text: string | RegExp, timeoutMs = 15_000): Promise<Locator> {
    const dialog = this.page.locator('.monaco-dialog-box', { hasText: text }).first();
    await dialog.waitFor({ state: 'visible', timeout: timeoutMs });
    return dialog;
  }

  async notifications(): Promise<string[]> {
    return (await this.page.locator('.notifications-toasts .notification-toast').allInnerTexts()).map(plain);
  }

  // ---- Output view --------------------------------------------------------------------------------------------------

  /**
   * Shows an output channel in the Output view and returns the text it displays (the lines in view; the view follows
   * the end of the channel). `until` waits for text to appear.
   */
  async outputChannel(name: string, until?: RegExp, timeoutMs = 15_000): Promise<string> {
    await this.runCommand('Output: Show Output Channels...');
    await this.pick(name, timeoutMs);
    const lines = this.page.locator('.output-view .monaco-editor .view-lines');
    await lines.waitFor({ state: 'visible', timeout: timeoutMs });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const rows = await lines.locator('.view-line').evaluateAll((els) =>
        els
          .map((el) => ({ top: parseFloat(el.style.top || '0'), text: el.innerText }))
          .sort((a, b) => a.top - b.top)
          .map((l) => l.text),
      );
      const text = plain(rows.join('\n'));
      if (!until || until.test(text)) return text;
      if (Date.now() > deadline)
        throw new Error(`output channel "${name}" does not show ${until} within ${timeoutMs} ms; it shows:\n${text}`);
      await this.page.waitForTimeout(200);
    }
  }

  // ---- Running Extensions -------------------------------------------------------------------------------------------

  /**
   * VS Code's own activation times (Developer: Show Running Extensions): the editor's measure of loading an extension's
   * code and running its activate(). Leaves that editor open.
   */
  async runningExtensions(timeoutMs = 15_000): Promise<RunningExtension[]> {
    await this.runCommand('Developer: Show Running Extensions', timeoutMs);
    const list = this.page.locator('.runtime-extensions-editor .monaco-list');
    const rows = list.locator('.monaco-list-row');
    await rows.first().waitFor({ timeout: timeoutMs });
    // The list renders only the rows in view: scroll through it, collecting rows by name.
    const seen = new Map<string, RunningExtension>();
    const box = await list.boundingBox();
    for (let unchanged = 0; unchanged < 2;) {
      const before = seen.size;
      for (const text of (await rows.allInnerTexts()).map(plain)) {
        const [name = ''] = text.split('\n');
        const activation = /(Startup )?Activation: (\d+(?:\.\d+)?)ms/.exec(text);
        seen.set(name.trim(), {
          name: name.trim(),
          startup: !!activation?.[1],
          activationMs: activation ? Number(activation[2]) : undefined,
          text,
        });
      }
      unchanged = seen.size === before ? unchanged + 1 : 0;
      if (box) {
        await this.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
        await this.page.mouse.wheel(0, box.height * 0.8);
      }
      await this.page.waitForTimeout(150);
    }
    await this.closeModalEditor();
    return [...seen.values()];
  }

  // ---- modal editors ------------------------------------------------------------------------------------------------

  /**
   * VS Code opens some editors (Running Extensions, Workspace Trust, Settings…) as a modal over the workbench; while one
   * is open the palette does not open.
   */
  modalEditor(): Locator {
    return this.page.locator('.modal-editor-part');
  }

  async closeModalEditor(timeoutMs = 10_000): Promise<void> {
    const modal = this.modalEditor();
    if (!(await modal.isVisible())) return;
    await this.page.keyboard.press('Escape');
    if (
      await modal.waitFor({ state: 'hidden', timeout: 1000 }).then(
        () => true,
        () => false,
      )
    )
      return;
    // Escape does not reach the modal when focus is inside its content: use its Close action.
    await modal
      .locator('.modal-editor-header .codicon-close, .modal-editor-header [aria-label^="Close"]')
      .first()
      .click();
    await modal.waitFor({ state: 'hidden', timeout: timeoutMs });
  }

  // ---- webviews -----------------------------------------------------------------------------------------------------

  /**
   * The content frames of webviews (the inner `active-frame` of each webview's outer frame), optionally only those of
   * one extension (`publisher.name`).
   */
  webviewFrames(extensionId?: string): Frame[] {
    return this.page.frames().filter((frame) => {
      const parent = frame.parentFrame();
      if (!parent || !parent.url().includes('webview')) return false;
      if (frame.name() !== 'active-frame' && !/fake\.html/.test(frame.url())) return false;
      return (
        !extensionId ||
        new URL(parent.url()).searchParams.get('extensionId')?.toLowerCase() === extensionId.toLowerCase()
      );
    });
  }

  /** Waits for a webview content frame that contains `selector`. */
  async webviewFrame(selector: string, options: { extensionId?: string; timeoutMs?: number } = {}): Promise<Frame> {
    const { extensionId, timeoutMs = 20_000 } = options;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const frame of this.webviewFrames(extensionId)) {
        if (
          (await frame
            .locator(selector)
            .count()
            .catch(() => 0)) > 0
        )
          return frame;
      }
      if (Date.now() > deadline) {
        const urls = this.page
          .frames()
          .map((f) => f.url())
          .join('\n  ');
        throw new Error(
          `no webview${extensionId ? ` of ${extensionId}` : ''} contains ${selector}; frames:\n  ${urls}`,
        );
      }
      await this.page.waitForTimeout(200);
    }
  }

  // ---- settings and theme -------------------------------------------------------------------------------------------

  /**
   * Sets a user setting (`undefined` removes it). VS Code itself writes it into the profile's settings.json, through the
   * extension's test probe, because code-server ignores edits made to that file behind its back; so the extension must
   * have activated (open a .t2i file first). For settings needed from the start, use `useSession({ settings })`.
   */
  async setSetting(key: string, value: unknown, timeoutMs = 15_000): Promise<void> {
    if (!this.probe.ready()) {
      throw new Error(
        `cannot set ${key} yet: the extension has not activated (open a .t2i file first, or pass it in useSession({ settings }))`,
      );
    }
    await this.probe.call('updateConfiguration', { key, value }, timeoutMs);
    const onDisk = JSON.parse(readFileSync(this.server.settingsFile, 'utf8')) as Record<string, unknown>;
    if (JSON.stringify(onDisk[key]) !== JSON.stringify(value)) {
      throw new Error(
        `${this.server.settingsFile} has ${key} = ${JSON.stringify(onDisk[key])}, not ${JSON.stringify(value)}`,
      );
    }
  }

  /** The user settings file of the session's profile, as VS Code last wrote it. */
  userSettings(): Record<string, unknown> {
    return JSON.parse(readFileSync(this.server.settingsFile, 'utf8')) as Record<string, unknown>;
  }

  async themeKind(): Promise<ThemeKind> {
    const classes = (await this.page.locator('.monaco-workbench').getAttribute('class')) ?? '';
    if (/\bhc-light\b/.test(classes)) return 'hc-light';
    if (/\bhc-black\b/.test(classes)) return 'hc-dark';
    if (/\bvs-dark\b/.test(classes)) return 'dark';
    return 'light';
  }

  /** Switches the colour theme as a user does (Preferences: Color Theme) and waits for the workbench to repaint. */
  async setTheme(kind: ThemeKind, timeoutMs = 15_000): Promise<void> {
    await this.runCommand('Preferences: Color Theme', timeoutMs);
    await this.pick(THEMES[kind], timeoutMs);
    await this.waitForTheme(kind, timeoutMs);
  }

  /** Preferences: Toggle between Light/Dark Themes; returns the kind switched to. */
  async toggleTheme(timeoutMs = 15_000): Promise<ThemeKind> {
    const before = await this.themeKind();
    await this.runCommand('Preferences: Toggle between Light/Dark Themes', timeoutMs);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const now = await this.themeKind();
      if (now !== before) return now;
      if (Date.now() > deadline) throw new Error(`the theme stayed ${before} after toggling`);
      await this.page.waitForTimeout(100);
    }
  }

  private async waitForTheme(kind: ThemeKind, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while ((await this.themeKind()) !== kind) {
      if (Date.now() > deadline) throw new Error(`the workbench did not switch to the ${kind} theme`);
      await this.page.waitForTimeout(100);
    }
  }
}
