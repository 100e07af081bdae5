import { useCallback } from 'react'
import uPlot, { type AlignedData } from 'uplot'
import { TooFewSamples } from './ChartActions'
import { PlotFigure, type ChartColors, type PlotSpec } from './PlotFigure'
import { decimate } from '../../../shared/decimate'

export interface Line {
  label: string
  points: [number, number][]
  color: string
  /** Which y axis: 'left' (default) or 'right'. */
  axis?: 'left' | 'right'
  /** Draw points only (sparse data such as probe replies). */
  dots?: boolean
}

export interface Marker {
  atMs: number
  label: string
  color: string
}

export interface Band {
  fromMs: number
  toMs: number
  label: string
  color: string
}

/**
 * A time series chart (x in ms since the run started) with event markers and shaded bands — the
 * migration timeline: bytes moving, STOP/RESUME, and the gap clients saw.
 */
export function TimeChart(props: { title: string; lines: Line[]; markers?: Marker[]; bands?: Band[]; left: string; right?: string; height?: number; focus?: [number, number]; minPoints?: number }) {
  const { title, lines, minPoints = 2 } = props
  const most = Math.max(0, ...lines.map((l) => l.points.length))
  if (most < minPoints) return <TooFewSamples title={title} n={most} need={minPoints} />
  return <TimePlot {...props} />
}

// Kept across renders, so a chart without markers or bands is not drawn again on every render.
const NO_MARKERS: Marker[] = []
const NO_BANDS: Band[] = []

function TimePlot(props: Parameters<typeof TimeChart>[0]) {
  const { title, lines, markers = NO_MARKERS, bands = NO_BANDS, left, right, height = 240, focus } = props
  const build = useCallback(
    ({ text, grid }: ChartColors): PlotSpec => {
      const tables = lines.map((l) => {
        const pts = decimate(l.points)
        return [pts.map((p) => p[0]), pts.map((p) => p[1])] as AlignedData
      })
      const data = tables.length ? uPlot.join(tables) : ([[]] as unknown as AlignedData)
      const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid } }
      const opts: PlotSpec['opts'] = {
        // `focus` zooms to the part worth seeing (the migration), not the guest's boot before it.
        scales: { x: { time: false, ...(focus ? { range: focus } : {}) }, right: {} },
        series: [
          { label: 'ms' },
          ...lines.map((l) => ({
            label: l.label,
            stroke: l.color,
            width: 1.5,
            scale: l.axis === 'right' ? 'right' : 'y',
            spanGaps: !l.dots,
            ...(l.dots ? { paths: () => null, points: { show: true, size: 3, fill: l.color } } : { points: { show: false } }),
          })),
        ],
        axes: [
          { ...axis, label: 'ms since start' },
          { ...axis, label: left },
          ...(right ? [{ ...axis, label: right, scale: 'right', side: 1 as const, grid: { show: false } }] : []),
        ],
        hooks: {
          drawClear: [
            (u) => {
              const ctx = u.ctx
              for (const b of bands) {
                const x0 = u.valToPos(b.fromMs, 'x', true)
                const x1 = u.valToPos(b.toMs, 'x', true)
                ctx.fillStyle = b.color
                ctx.fillRect(x0, u.bbox.top, Math.max(1, x1 - x0), u.bbox.height)
              }
            },
          ],
          draw: [
            (u) => {
              const ctx = u.ctx
              ctx.save()
              ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`
              markers.forEach((m, i) => {
                const x = u.valToPos(m.atMs, 'x', true)
                ctx.strokeStyle = m.color
                ctx.fillStyle = m.color
                ctx.setLineDash([4, 3])
                ctx.beginPath()
                ctx.moveTo(x, u.bbox.top)
                ctx.lineTo(x, u.bbox.top + u.bbox.height)
                ctx.stroke()
                ctx.fillText(m.label, x + 4, u.bbox.top + 12 * devicePixelRatio * (1 + (i % 3)))
              })
              ctx.restore()
            },
          ],
        },
      }
      return { opts, data }
    },
    [lines, markers, bands, left, right, focus],
  )
  const extras = useCallback(
    () => ({ markers: markers.map((m) => ({ x: m.atMs, label: m.label, color: m.color })), bands: bands.map((b) => ({ from: b.fromMs, to: b.toMs, color: b.color })) }),
    [markers, bands],
  )
  return <PlotFigure title={title} height={height} build={build} extras={extras} fallbackWidth={600} />
}
