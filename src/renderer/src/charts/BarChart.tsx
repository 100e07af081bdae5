import { useCallback } from 'react'
import { TooFewSamples } from './ChartActions'
import { drawAbsent } from './absent-slot'
import { PlotFigure, type ChartColors, type PlotSpec } from './PlotFigure'

export interface Bar {
  label: string
  value: number
  /** Half-width of the 95 % confidence interval, drawn as a whisker. */
  ci?: number
  color: string
}

/** A chart's number, as many digits as its size needs. */
export const formatValue = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toPrecision(2))

/** Bars with confidence whiskers on uPlot's axes: one metric across the compared groups (a group without the figure keeps its slot, marked "not measured"). */
export function BarChart(props: { title: string; unit: string; bars: Bar[]; height?: number }) {
  if (!props.bars.some((b) => Number.isFinite(b.value))) return <TooFewSamples title={props.title} n={0} need={1} what="values" />
  return <BarPlot {...props} />
}

function BarPlot({ title, unit, bars, height = 200 }: { title: string; unit: string; bars: Bar[]; height?: number }) {
  const build = useCallback(
    ({ text, grid }: ChartColors): PlotSpec => {
      const xs = bars.map((_, i) => i)
      const top = Math.max(1, ...bars.filter((b) => Number.isFinite(b.value)).map((b) => b.value + (b.ci ?? 0))) * 1.15
      return {
        data: [xs, bars.map((b) => b.value)],
        opts: {
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false, range: [-0.6, bars.length - 0.4] }, y: { range: [0, top] } },
          series: [
            {},
            // uPlot provides the scales and axes; the draw hook paints each bar in its group's colour.
            { label: unit, paths: () => null, points: { show: false } },
          ],
          axes: [
            { stroke: text, grid: { show: false }, ticks: { show: false }, splits: () => xs, values: () => bars.map((b) => b.label) },
            { stroke: text, grid: { stroke: grid, width: 1 }, label: unit },
          ],
          hooks: {
            draw: [
              (u) => {
                const ctx = u.ctx
                const w = (u.bbox.width / bars.length) * 0.6
                bars.forEach((b, i) => {
                  const x = u.valToPos(i, 'x', true)
                  if (!Number.isFinite(b.value)) return drawAbsent(u, x, text)
                  const y = u.valToPos(b.value, 'y', true)
                  const y0 = u.valToPos(0, 'y', true)
                  ctx.fillStyle = b.color
                  ctx.fillRect(x - w / 2, y, w, y0 - y)
                  // The mean in figures too: next to a bar 1000× taller, a short one is still read.
                  ctx.save()
                  ctx.fillStyle = text
                  ctx.font = `${10 * devicePixelRatio}px sans-serif`
                  ctx.textAlign = 'center'
                  ctx.fillText(formatValue(b.value), x, y - 4 * devicePixelRatio)
                  ctx.restore()
                  if (b.ci) {
                    const lo = u.valToPos(Math.max(0, b.value - b.ci), 'y', true)
                    const hi = u.valToPos(b.value + b.ci, 'y', true)
                    ctx.strokeStyle = text
                    ctx.lineWidth = 1.5 * devicePixelRatio
                    ctx.beginPath()
                    ctx.moveTo(x, lo)
                    ctx.lineTo(x, hi)
                    ctx.moveTo(x - w / 6, hi)
                    ctx.lineTo(x + w / 6, hi)
                    ctx.moveTo(x - w / 6, lo)
                    ctx.lineTo(x + w / 6, lo)
                    ctx.stroke()
                  }
                })
              },
            ],
          },
        },
      }
    },
    [unit, bars],
  )
  const extras = useCallback(() => ({ bars: bars.map((b, i) => ({ x: i, value: b.value, ci: b.ci, color: b.color, label: b.label })) }), [bars])
  return <PlotFigure title={title} height={height} build={build} extras={extras} />
}
