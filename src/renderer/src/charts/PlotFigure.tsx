import { useEffect, useRef } from 'react'
import uPlot, { type AlignedData, type Options } from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { ChartActions } from './ChartActions'
import type { SvgExtras } from './export'

/** The page's chart colours (CSS variables), read when a chart is drawn. */
export interface ChartColors {
  text: string
  grid: string
}

/** What a chart builds: uPlot's options (without title and size) and its data. */
export type PlotSpec = { opts: Omit<Options, 'title' | 'width' | 'height'>; data: AlignedData }

/**
 * What every chart shares: a uPlot in a figure that follows its width, the page's colours, and
 * the PNG/SVG buttons. `build` must keep its identity while the chart's inputs do (useCallback):
 * a new one draws the chart again.
 */
export function PlotFigure({ title, height, build, extras, fallbackWidth = 320 }: { title: string; height: number; build: (colors: ChartColors) => PlotSpec; extras?: () => SvgExtras; fallbackWidth?: number }) {
  const host = useRef<HTMLDivElement>(null)
  const plotRef = useRef<uPlot>(undefined)
  useEffect(() => {
    const el = host.current!
    const css = getComputedStyle(document.documentElement)
    const colors = { text: css.getPropertyValue('--muted').trim() || '#666', grid: css.getPropertyValue('--line').trim() || '#ddd' }
    const { opts, data } = build(colors)
    const plot = new uPlot({ ...opts, title, width: el.clientWidth || fallbackWidth, height }, data, el)
    plotRef.current = plot
    const observer = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }))
    observer.observe(el)
    return () => {
      observer.disconnect()
      plot.destroy()
    }
  }, [title, height, build, fallbackWidth])
  return (
    <figure className="chart-figure">
      <div className="chart" ref={host} role="img" aria-label={title} />
      <ChartActions plot={() => plotRef.current} title={title} extras={extras} />
    </figure>
  )
}
