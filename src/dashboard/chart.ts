// The hash-rate chart: uPlot (loaded by the page from the package's node_modules, as the global
// `uPlot`) drawing the history the server sent on connect plus every live sample after it. A
// series not seen before (an engine, a Stratum worker) rebuilds the chart; anything else is a
// cheap setData.
import type uPlot from 'uplot';

import { formatRate } from '../telemetry/format.js';
import { RateColumns } from '../telemetry/rate-history.js';
import type { HistoryColumns, RateSample, SeriesKind } from '../telemetry/status-document.js';

const UPlot = (globalThis as unknown as { uPlot: typeof uPlot }).uPlot;

/** The history kept in the page: the day, like the server's ring. */
const SPAN_SECONDS = 86_400;
const HEIGHT = 240;
const ENGINE_COLOURS = ['#58a6ff', '#3fb950', '#bc8cff', '#39c5cf', '#d29922', '#ff7b72'];
const WORKER_COLOURS = ['#a5d6ff', '#7ee787', '#d2a8ff', '#56d4dd', '#e3b341', '#ffa198'];
export const TOTAL_COLOUR = '#f7931a';

function colourOf(kind: SeriesKind, index: number): string {
  if (kind === 'total') return TOTAL_COLOUR;
  const palette = kind === 'engine' ? ENGINE_COLOURS : WORKER_COLOURS;
  return palette[index % palette.length]!;
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export class RateChart {
  private plot: uPlot | undefined;
  private columns: RateColumns | undefined;

  constructor(private readonly el: HTMLElement) {
    new ResizeObserver(() => this.plot?.setSize(this.size())).observe(el);
  }

  /** The history sent when the stream (re)opened: it replaces what the page had. */
  setHistory(history: HistoryColumns): void {
    this.columns = RateColumns.fromColumns(history, Math.ceil(SPAN_SECONDS / history.intervalSeconds));
    this.rebuild();
  }

  append(sample: RateSample, intervalSeconds: number): void {
    this.columns ??= new RateColumns(intervalSeconds, Math.ceil(SPAN_SECONDS / intervalSeconds));
    if (this.columns.append(sample) || this.plot === undefined) this.rebuild();
    else this.plot.setData(this.data());
  }

  private size(): { width: number; height: number } {
    return { width: Math.max(200, this.el.clientWidth), height: HEIGHT };
  }

  private data(): uPlot.AlignedData {
    const c = this.columns!;
    return [c.t, ...c.series.map((s) => s.values)];
  }

  private rebuild(): void {
    if (this.columns === undefined) return;
    this.plot?.destroy();
    const axis = cssVar('--muted', '#9aa3b2');
    const grid = cssVar('--line', '#2a2f3a');
    const counts: Record<SeriesKind, number> = { total: 0, engine: 0, worker: 0 };
    const series: uPlot.Series[] = [
      {},
      ...this.columns.series.map((s) => ({
        label: s.kind === 'worker' ? `worker ${s.label}` : s.label,
        stroke: colourOf(s.kind, counts[s.kind]++),
        width: s.kind === 'total' ? 2 : 1.5,
        spanGaps: false,
        value: (_u: uPlot, v: number | null) => (v === null ? '–' : formatRate(v)),
      })),
    ];
    // Axis labels without trailing zeros ("500 GH/s", "1.5 TH/s"): they must fit the axis' width.
    const rateAxis = (_u: uPlot, values: number[]) => values.map((v) => formatRate(v).replace(/(\.\d*?)0+ /, '$1 ').replace('. ', ' '));
    this.plot = new UPlot(
      {
        ...this.size(),
        series,
        scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
        axes: [
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } },
          { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid }, values: rateAxis, size: 80 },
        ],
        legend: { live: true },
        cursor: { drag: { x: false, y: false } },
      },
      this.data(),
      this.el,
    );
  }
}
