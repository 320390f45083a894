// extension.ts imports this module first, so in the bundle this line runs before any other code of ours: the
// activation time we log then covers loading the bundle as well as activate(). Keep it the first import.
export const moduleLoadStart = performance.now();
