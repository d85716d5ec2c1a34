// One bar chart on a <canvas>, drawn by Chart.js with only the bar controller registered (the
// dashboard's chunk carries nothing else of it). Black and white legible: each series has its own
// fill (solid, hatched, dotted) with a black border, never colour alone. The canvas is an image
// named by its caption; its numbers are the table the page puts under it.
import { useEffect, useRef } from 'preact/hooks';
import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip, type ChartEvent } from 'chart.js';
import { formatNumber } from '../../i18n';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

export type Fill = 'solid' | 'hatched' | 'dotted';

export interface Series {
  label: string;
  data: number[];
  fill: Fill;
  /** What each bar stands for, when not its category's label (a compared month): the tooltip names it. */
  names?: string[];
}

const INK = '#1a1a1a';

/** A fill a printer keeps apart from the others: solid ink, diagonal hatching, or dots. */
function pattern(fill: Fill): string | CanvasPattern {
  if (fill === 'solid') return '#3a3a3a';
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const g = tile.getContext('2d');
  if (!g) return '#9a9a9a';
  g.fillStyle = '#ffffff';
  g.fillRect(0, 0, 8, 8);
  g.fillStyle = INK;
  g.strokeStyle = INK;
  if (fill === 'hatched') {
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(0, 8);
    g.lineTo(8, 0);
    g.moveTo(-2, 2);
    g.lineTo(2, -2);
    g.moveTo(6, 10);
    g.lineTo(10, 6);
    g.stroke();
  } else {
    g.beginPath();
    g.arc(2, 2, 1.3, 0, Math.PI * 2);
    g.arc(6, 6, 1.3, 0, Math.PI * 2);
    g.fill();
  }
  return g.createPattern(tile, 'repeat') ?? '#9a9a9a';
}

/** A long category label shortened for the axis; the table keeps it whole. */
function shorten(label: string, max: number): string {
  return label.length > max ? `${label.slice(0, max - 1)}…` : label;
}

export function BarChart(props: {
  /** The chart's accessible name: its caption. */
  label: string;
  /** The id of the caption that says more of the chart. */
  describedBy?: string;
  labels: string[];
  series: Series[];
  /** Bars along the vertical axis, for long category names (departments). */
  horizontal?: boolean;
  /** A bar was clicked: its category and series. */
  onBar?: (index: number, series: number) => void;
  /** Called once the chart is drawn (the page's `data-ready`). */
  onDrawn?: () => void;
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const chart = useRef<Chart<'bar'> | null>(null);
  const onBar = useRef(props.onBar);
  onBar.current = props.onBar;

  useEffect(() => {
    const el = canvas.current;
    if (!el) return;
    const horizontal = !!props.horizontal;
    chart.current?.destroy();
    chart.current = new Chart(el, {
      type: 'bar',
      data: {
        labels: props.labels,
        datasets: props.series.map((s) => ({
          label: s.label,
          data: s.data,
          backgroundColor: pattern(s.fill),
          borderColor: INK,
          borderWidth: 1,
        })),
      },
      options: {
        indexAxis: horizontal ? 'y' : 'x',
        responsive: true,
        maintainAspectRatio: false,
        // Drawn at once: nothing moves for a person who asked for less motion, and a print or a
        // screenshot never catches a bar half grown.
        animation: false,
        color: INK,
        scales: {
          [horizontal ? 'y' : 'x']: {
            ticks: { color: INK, autoSkip: !horizontal, callback: (_v, i) => shorten(props.labels[i] ?? '', horizontal ? 22 : 16) },
            grid: { display: false },
          },
          [horizontal ? 'x' : 'y']: {
            beginAtZero: true,
            ticks: { color: INK, precision: 0, callback: (v) => formatNumber(Number(v)) },
            grid: { color: '#d0d0d0' },
          },
        },
        plugins: {
          legend: { display: props.series.length > 1, labels: { color: INK, boxWidth: 24 } },
          tooltip: {
            callbacks: {
              label: (item) => {
                const name = props.series[item.datasetIndex]?.names?.[item.dataIndex];
                return `${item.dataset.label ?? ''}${name ? `, ${name}` : ''}: ${formatNumber(Number(item.raw))}`;
              },
            },
          },
        },
        onClick: (event: ChartEvent, _elements, c) => {
          const native = event.native;
          if (!native || !onBar.current) return;
          const hit = c.getElementsAtEventForMode(native, 'nearest', { intersect: true }, false)[0];
          if (hit) onBar.current(hit.index, hit.datasetIndex);
        },
        onHover: (event, elements) => {
          const target = event.native?.target;
          if (target instanceof HTMLElement) target.style.cursor = elements.length && onBar.current ? 'pointer' : 'default';
        },
      },
    });
    // The chart's geometry, for the end-to-end test that clicks a bar where it is drawn (a
    // property of the element, never markup).
    (el as HTMLCanvasElement & { chart?: Chart<'bar'> }).chart = chart.current;
    props.onDrawn?.();
  }, [props.label, JSON.stringify(props.labels), JSON.stringify(props.series), props.horizontal]);

  useEffect(() => () => chart.current?.destroy(), []);

  const rows = props.horizontal ? props.labels.length * Math.max(1, props.series.length) : 0;
  return (
    <div class={`chart${props.horizontal ? ' horizontal' : ''}`} ref={(el) => {
        // CSSOM, which the CSP allows (a style attribute it would refuse).
        if (el && rows) el.style.setProperty('--rows', String(rows));
      }}>
      <canvas ref={canvas} role="img" aria-label={props.label} aria-describedby={props.describedBy} />
    </div>
  );
}
