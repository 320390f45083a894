/** The backends suites' name for runCommand (the CLI in-process, output captured). */
export { runCommand as cli } from './runCommand';
