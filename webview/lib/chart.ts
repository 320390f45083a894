// Geometry of the panel's plain-SVG charts: positions in percent of the plot (so SVG and CSS scale them without any
// measuring) and the quality-versus-cloud-share curve as a path in a 100 × 100 box.
import { clamp } from './format';

/** `value` on [lo, hi] as a percentage of the axis, clamped to the axis. */
export function pct(value: number, lo = 0, hi = 1): number {
  if (!Number.isFinite(value) || hi <= lo) return 0;
  return clamp(((value - lo) / (hi - lo)) * 100, 0, 100);
}

/** The same, as an SVG or CSS length: "37.5%". */
export function pctText(value: number, lo = 0, hi = 1): string {
  return `${round(pct(value, lo, hi))}%`;
}

const round = (n: number): number => Math.round(n * 100) / 100;

export interface CurvePoint {
  share: number;
  pgr: number;
}

/** The y range of a curve: always [0, 1], widened when the router overshoots (PGR above 1 or below 0). */
export function curveDomain(points: readonly CurvePoint[]): { lo: number; hi: number } {
  let lo = 0;
  let hi = 1;
  for (const p of points) {
    lo = Math.min(lo, p.pgr);
    hi = Math.max(hi, p.pgr);
  }
  return { lo, hi };
}

function sorted(points: readonly CurvePoint[]): CurvePoint[] {
  return points.filter((p) => Number.isFinite(p.share) && Number.isFinite(p.pgr)).sort((a, b) => a.share - b.share);
}

/** The curve as a path in a 100 × 100 box, y pointing down (SVG's way). Empty for fewer than two points. */
export function curvePath(points: readonly CurvePoint[], domain = curveDomain(points)): string {
  const pts = sorted(points);
  if (pts.length < 2) return '';
  return pts
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${round(pct(p.share))} ${round(100 - pct(p.pgr, domain.lo, domain.hi))}`)
    .join(' ');
}

/** The area between the curve and y = 0 (or the bottom of the domain), closed, for a light fill. */
export function curveArea(points: readonly CurvePoint[], domain = curveDomain(points)): string {
  const line = curvePath(points, domain);
  if (!line) return '';
  const pts = sorted(points);
  const base = round(100 - pct(0, domain.lo, domain.hi));
  return `${line} L${round(pct(pts[pts.length - 1]!.share))} ${base} L${round(pct(pts[0]!.share))} ${base} Z`;
}

/** The curve's value at a share, linearly between its points; undefined outside them. */
export function curveAt(points: readonly CurvePoint[], share: number): number | undefined {
  const pts = sorted(points);
  if (!pts.length || share < pts[0]!.share || share > pts[pts.length - 1]!.share) return undefined;
  for (let i = 1; i < pts.length; i++) {
    const a = pts[i - 1]!;
    const b = pts[i]!;
    if (share <= b.share)
      return b.share === a.share ? b.pgr : a.pgr + ((share - a.share) / (b.share - a.share)) * (b.pgr - a.pgr);
  }
  return pts[0]!.pgr;
}

/** Evenly spaced ticks from lo to hi inclusive. */
export function ticks(lo: number, hi: number, step: number): number[] {
  const out: number[] = [];
  for (let v = lo; v <= hi + step / 1e6; v += step) out.push(Math.round(v / step) * step);
  return out;
}

export interface AxisLabel {
  /** Percent of the axis. */
  x: number;
  anchor: 'start' | 'middle' | 'end';
  text: string;
}

/** Anchors a label so that it stays inside the axis near its ends. */
export function anchorFor(x: number, margin = 8): AxisLabel['anchor'] {
  return x < margin ? 'start' : x > 100 - margin ? 'end' : 'middle';
}

/**
 * The labels above the PRS axis: the 0.5 line and α. α = min(0.5, quantile) sits at or left of 0.5; when the two are
 * close their labels lean apart, and when they coincide one label says so.
 */
export function prsTopLabels(alpha: number, digits = 2): AxisLabel[] {
  const a = pct(alpha);
  const alphaText = `\u03b1 ${alpha.toFixed(digits)}`;
  if (Math.abs(a - 50) < 0.5) return [{ x: 50, anchor: 'middle', text: '\u03b1 = 0.5' }];
  if (Math.abs(a - 50) < 14) {
    return a < 50
      ? [
          { x: a, anchor: 'end', text: alphaText },
          { x: 50, anchor: 'start', text: '0.5' },
        ]
      : [
          { x: 50, anchor: 'end', text: '0.5' },
          { x: a, anchor: 'start', text: alphaText },
        ];
  }
  return [
    { x: 50, anchor: 'middle', text: '0.5' },
    { x: a, anchor: anchorFor(a), text: alphaText },
  ];
}
