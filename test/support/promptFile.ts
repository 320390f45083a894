// A long .t2i file for latency measurements: `count` prompts of 10–30 words, built from fixed word lists with a
// seeded generator (so every run measures the same text), some with emphasis, LoRA tags and negative prompts.
const SUBJECTS = [
  'an old fisherman',
  'a young woman',
  'a red fox',
  'a lighthouse',
  'two children',
  'a chef',
  'a robot',
  'a cathedral',
  'a bowl of ramen',
  'a violinist',
  'a mountain village',
  'a cat',
];
const ACTIONS = [
  'holding a lantern',
  'walking in the rain',
  'reading a book',
  'kneading dough with both hands',
  'under a starry sky',
  'on a wooden table',
  'playing in the snow',
  'at golden hour',
  'surrounded by flowers',
  'in a busy market',
];
const STYLES = [
  'oil painting',
  'watercolor',
  'photorealistic',
  '35mm film photo',
  'studio lighting',
  'dramatic lighting',
  'soft window light',
  'highly detailed',
  'cinematic',
  'isometric illustration',
  'by a renaissance master',
];
const EXTRAS = [
  '(intricate details:1.2)',
  '[blurry background]',
  '<lora:detail_v2:0.6>',
  'shallow depth of field',
  '85mm',
  'a sign that says "OPEN"',
  'ultra wide angle',
  'pastel colors',
];

export function longPromptFile(count: number, seed = 7): string {
  let s = seed >>> 0;
  const next = () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(next() * xs.length)]!;
  const blocks: string[] = ['---', 'size: 1024x1024', '---', ''];
  for (let i = 0; i < count; i++) {
    const parts = [`${pick(SUBJECTS)} ${pick(ACTIONS)}`, pick(STYLES), pick(STYLES)];
    if (next() < 0.5) parts.push(pick(EXTRAS));
    if (next() < 0.3) parts.push(pick(EXTRAS));
    if (next() < 0.2) blocks.push(`# prompt ${i + 1}`);
    blocks.push(parts.join(', '));
    if (next() < 0.3) blocks.push('negative: blurry, watermark, extra fingers');
    blocks.push('');
  }
  return blocks.join('\n');
}

/** Line starts of a text, for offset → line/character as an editor maps them. */
export function lineIndex(text: string): (offset: number) => { line: number; character: number } {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo, character: offset - starts[lo]! };
  };
}
