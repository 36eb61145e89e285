import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

/** A small line chart of `values` (one per bucket starting at `fromMs`, `bucketMs` apart), drawn with uPlot. */
export function Sparkline({
  values,
  fromMs,
  bucketMs,
  label,
  height = 48,
}: {
  values: readonly number[];
  fromMs: number;
  bucketMs: number;
  label: string;
  height?: number;
}) {
  const container = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const xRange = (u: uPlot): [number, number] => {
    const xs = u.data[0];
    const half = bucketMs / 2000;
    return [(xs[0] ?? 0) - half, (xs[xs.length - 1] ?? 0) + half];
  };

  const data = (): uPlot.AlignedData => [
    values.map((_, i) => (fromMs + i * bucketMs) / 1000),
    values.slice(),
  ];

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    const plot = new uPlot(
      {
        width: Math.max(80, element.clientWidth),
        height,
        legend: { show: false },
        cursor: { show: false },
        select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: {
          // Half a bucket of room on each side, so the first and the current minute's bars are whole.
          x: { time: true, range: (u) => xRange(u) },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
        axes: [{ show: false }, { show: false }],
        padding: [4, 0, 1, 0],
        // One bar per bucket: a count per minute is discrete, and a lone busy minute stays visible.
        series: [
          {},
          {
            // Fill only: an empty minute draws nothing (a stroke would outline a zero-height bar).
            fill: 'rgba(37, 99, 235, 0.7)',
            width: 0,
            ...(uPlot.paths.bars ? { paths: uPlot.paths.bars({ size: [0.8, 12] }) } : {}),
            points: { show: false },
          },
        ],
      },
      data(),
      element,
    );
    chart.current = plot;
    const observer = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(80, element.clientWidth), height }),
    );
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
      chart.current = null;
    };
  }, [height]);

  useEffect(() => {
    chart.current?.setData(data());
  }, [values, fromMs, bucketMs]);

  const minutes = Math.round((values.length * bucketMs) / 60_000);
  return (
    <div className="sparkline-box">
      <div className="sparkline" ref={container} role="img" aria-label={label} />
      <div className="sparkline-axis muted small" aria-hidden="true">
        <span>−{minutes} min</span>
        <span>now</span>
      </div>
    </div>
  );
}
