// What the scenarios report to: measure() runs sides in alternation (A B C, then B C A, ...)
// and keeps the median; record() keeps a single figure. Rows become the stdout table and results.json.
import { fmt, median, table } from './stats.mjs';

/**
 * @typedef {{ side: string, sample: () => Promise<number> }} Side
 * @typedef {{ text: string, met: (medians: Record<string, number>, ratios: Record<string, number>) => boolean }} Target
 * @typedef {{ scenario: string, measurement: string, side: string, median: number, unit: string,
 *   better: 'higher'|'lower', ratio: number|null, samples: number[], error?: string }} Row
 */
export class Recorder {
  /** @type {Row[]} */
  rows = [];
  /** @type {{ scenario: string, measurement: string, text: string, met: boolean }[]} */
  targets = [];
  /** @type {{ scenario: string, text: string }[]} */
  notes = [];

  constructor(log) {
    this.log = log;
  }

  /**
   * @param {{ scenario: string, measurement: string, unit: string, better: 'higher'|'lower',
   *   sides: Side[], baseline?: string, rounds: number, warmup?: number, settleMs?: number,
   *   targets?: Target[] }} m
   * @returns {Promise<Record<string, number>>} median per side
   */
  async measure(m) {
    const samples = Object.fromEntries(m.sides.map((s) => [s.side, []]));
    const errors = {};
    const live = () => m.sides.filter((s) => !errors[s.side]);
    const once = async (s, keep) => {
      try {
        const v = await s.sample();
        if (keep) samples[s.side].push(v);
      } catch (err) {
        errors[s.side] = err?.message ?? String(err);
        this.log(`   ${m.measurement} / ${s.side}: ERROR ${errors[s.side]}`);
      }
    };
    // Round r starts at side r (A B C, B C A, C A B, ...): each side follows each other side
    // equally often, so what one side leaves behind (backend processes still exiting, caches)
    // does not always land on the same next side.
    const rotated = (r) => {
      const l = live();
      return l.map((_, i) => l[(i + r) % l.length]);
    };
    const settle = () => (m.settleMs ? new Promise((res) => setTimeout(res, m.settleMs)) : undefined);
    for (let w = 0; w < (m.warmup ?? 1); w++) for (const s of live()) await once(s, false);
    for (let r = 0; r < m.rounds; r++) {
      for (const s of rotated(r)) {
        await settle();
        await once(s, true);
      }
    }
    const medians = Object.fromEntries(m.sides.map((s) => [s.side, median(samples[s.side])]));
    const base = m.baseline ?? m.sides[0].side;
    const ratios = Object.fromEntries(m.sides.map((s) => [s.side, medians[s.side] / medians[base]]));
    for (const s of m.sides) {
      this.rows.push({
        scenario: m.scenario,
        measurement: m.measurement,
        side: s.side,
        median: medians[s.side],
        unit: m.unit,
        better: m.better,
        ratio: Number.isFinite(ratios[s.side]) ? +ratios[s.side].toFixed(3) : null,
        samples: samples[s.side].map((v) => +v.toFixed(3)),
        ...(errors[s.side] ? { error: errors[s.side] } : {}),
      });
    }
    this.log(`   ${m.measurement}: ${m.sides.map((s) => `${s.side} ${fmt(medians[s.side])}`).join(', ')} ${m.unit}`);
    for (const t of m.targets ?? []) this.#target(m.scenario, m.measurement, t, medians, ratios);
    return medians;
  }

  /** One figure (no alternation), e.g. memory per connection. */
  record({ scenario, measurement, side, value, unit, better, samples = [value], targets = [] }) {
    this.rows.push({ scenario, measurement, side, median: value, unit, better, ratio: null, samples: samples.map((v) => +v.toFixed(3)) });
    this.log(`   ${measurement}: ${side} ${fmt(value)} ${unit}`);
    for (const t of targets) this.#target(scenario, measurement, t, { [side]: value }, {});
  }

  note(scenario, text) {
    this.notes.push({ scenario, text });
    this.log(`   note: ${text}`);
  }

  #target(scenario, measurement, t, medians, ratios) {
    let met = false;
    try {
      met = Boolean(t.met(medians, ratios));
    } catch {
      met = false;
    }
    this.targets.push({ scenario, measurement, text: t.text, met });
  }

  /** The stdout table. */
  render() {
    const out = [];
    let last = '';
    const rows = this.rows.map((r) => {
      const key = `${r.scenario} | ${r.measurement}`;
      const first = key !== last;
      last = key;
      return [
        first ? r.measurement : '',
        r.side,
        `${fmt(r.median)} ${r.unit}`,
        r.ratio === null ? '' : `${r.ratio.toFixed(2)}x`,
        r.better === 'higher' ? 'higher' : 'lower',
        r.error ? `ERROR: ${r.error.slice(0, 60)}` : `n=${r.samples.length}`,
      ];
    });
    out.push(table(['measurement', 'side', 'median', 'vs base', 'better', ''], rows));
    if (this.targets.length) {
      out.push('', 'targets:');
      for (const t of this.targets) out.push(`  [${t.met ? 'met ' : 'MISS'}] ${t.measurement}: ${t.text}`);
    }
    if (this.notes.length) {
      out.push('', 'notes:');
      for (const n of this.notes) out.push(`  ${n.scenario}: ${n.text}`);
    }
    return out.join('\n');
  }
}
