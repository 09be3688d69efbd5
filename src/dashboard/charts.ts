/**
 * The overview's live charts, drawn by uPlot (50 KB minified, 22 KB gzipped): time axes, scales
 * that follow the data, a legend with the values under the cursor, on a canvas that redraws 150
 * points every two seconds without effort. What we would write instead is an SVG polyline with
 * none of that.
 */
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

/** Samples kept: five minutes at one every two seconds. */
export const HISTORY = 150;

/** Parallel series: time (s) and a value per series. */
export type Series = number[][];

/** A line chart of `labels` over time in `el`; `update` redraws it with new data. */
export function lineChart(
  el: HTMLElement,
  title: string,
  labels: string[],
  colors: string[],
): { update(data: Series): void } {
  const opts: uPlot.Options = {
    title,
    width: Math.max(300, el.clientWidth),
    height: 220,
    series: [
      {},
      ...labels.map((label, i) => ({
        label,
        stroke: colors[i] ?? "#333",
        width: 2,
        value: (_u: uPlot, v: number | null) => v === null ? "-" : v.toFixed(v < 10 ? 1 : 0),
      })),
    ],
    axes: [{}, { size: 60 }],
    scales: { y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
  };
  const chart = new uPlot(opts, [[], ...labels.map(() => [])], el);
  const resize = () => chart.setSize({ width: Math.max(300, el.clientWidth), height: 220 });
  addEventListener("resize", resize);
  return { update: (data) => chart.setData(data as uPlot.AlignedData) };
}

/** Appends a sample to parallel series, keeping the last {@link HISTORY}. */
export function push(series: Series, sample: number[]): void {
  sample.forEach((v, i) => {
    const s = series[i] ?? (series[i] = []);
    s.push(v);
    if (s.length > HISTORY) s.shift();
  });
}
