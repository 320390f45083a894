import assert from 'node:assert/strict';
import { count, money, monthLabel, percent, score, signed, when } from '../../../webview/lib/format';

describe('panel formatting', () => {
  it('writes scores with two decimals and a dash for missing ones', () => {
    assert.equal(score(0.6249), '0.62');
    assert.equal(score(1), '1.00');
    assert.equal(score(undefined), '–');
    assert.equal(score(null), '–');
    assert.equal(score(Number.NaN), '–');
  });

  it('signs differences with a true minus and ± for zero', () => {
    assert.equal(signed(0.051), '+0.05');
    assert.equal(signed(-0.12), '\u22120.12');
    assert.equal(signed(0.001), '\u00b10.00');
    assert.equal(signed(-0.004), '\u00b10.00');
    assert.equal(signed(0.5, 1), '+0.5');
    assert.equal(signed(Infinity), '–');
  });

  it('writes shares as percentages, with a decimal only where small shares need it', () => {
    assert.equal(percent(0.3), '30%');
    assert.equal(percent(0.3333), '33%');
    assert.equal(percent(0.025), '2.5%');
    assert.equal(percent(0.02), '2%');
    assert.equal(percent(1.055), '106%');
    assert.equal(percent(null), '–');
  });

  it('writes money in dollars, keeping a third decimal for fractions of a cent', () => {
    assert.equal(money(1.2), '$1.20');
    assert.equal(money(0.04), '$0.04');
    assert.equal(money(0.065), '$0.065');
    assert.equal(money(0.004), '$0.004');
    assert.equal(money(0), '$0.00');
    assert.equal(money(12.5), '$12.50');
    assert.equal(money(-0.5), '\u2212$0.50');
    assert.equal(money(2, 'EUR'), 'EUR 2.00');
    assert.equal(money(null), '–');
  });

  it('names months and counts things', () => {
    assert.equal(monthLabel('2026-11'), 'November 2026');
    assert.equal(monthLabel('2026-13'), '2026-13');
    assert.equal(monthLabel('soon'), 'soon');
    assert.equal(count(1, 'image'), '1 image');
    assert.equal(count(3, 'image'), '3 images');
    assert.equal(count(0, 'entry', 'entries'), '0 entries');
  });

  it('writes times short: the time today, the day this year, the year before', () => {
    const now = new Date(2026, 10, 26, 15, 0);
    assert.equal(when(new Date(2026, 10, 26, 9, 5).toISOString(), now), '09:05');
    assert.equal(when(new Date(2026, 10, 3, 14, 30).toISOString(), now), '3 Nov 14:30');
    assert.equal(when(new Date(2025, 11, 31, 23, 59).toISOString(), now), '31 Dec 2025');
    assert.equal(when('not a date', now), 'not a date');
  });
});
