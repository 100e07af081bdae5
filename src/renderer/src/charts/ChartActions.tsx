import type uPlot from 'uplot'
import { fileStem, plotPng, plotSvg, saveBlob, type SvgExtras } from './export'

/** PNG and SVG buttons under a chart. */
export function ChartActions({ plot, title, extras }: { plot: () => uPlot | undefined; title: string; extras?: () => SvgExtras }) {
  const stem = fileStem(title)
  return (
    <div className="chart-actions">
      <button
        className="subtle small"
        aria-label={`Save ${title} as PNG`}
        onClick={() => {
          const u = plot()
          if (u) void plotPng(u, title).then((b) => saveBlob(b, `${stem}.png`))
        }}
      >
        PNG
      </button>
      <button
        className="subtle small"
        aria-label={`Save ${title} as SVG`}
        onClick={() => {
          const u = plot()
          if (u) saveBlob(plotSvg(u, title, extras?.()), `${stem}.svg`)
        }}
      >
        SVG
      </button>
    </div>
  )
}

/** What a chart shows when it has too little to draw: a sentence, not empty axes. */
export const TooFewSamples = ({ title, n, need = 2, what = 'samples' }: { title: string; n: number; need?: number; what?: string }) => (
  <div className="chart chart-empty" role="note" aria-label={title}>
    <strong>{title}</strong>
    <p className="muted">
      Too few {what} to draw: {n === 0 ? 'none were' : `only ${n} ${n === 1 ? 'was' : 'were'}`} recorded (a chart needs at least {need}). A very short migration can finish between two samples.
    </p>
  </div>
)
