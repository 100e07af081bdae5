import { useCallback } from 'react'
import { TooFewSamples } from './ChartActions'
import { drawAbsent } from './absent-slot'
import { PlotFigure, type ChartColors, type PlotSpec } from './PlotFigure'

export interface Box {
  label: string
  min: number
  q1: number
  median: number
  q3: number
  max: number
  color: string
}

/** Box plots (min, quartiles, median, max) of one metric across the compared groups: the spread behind the means. */
export function BoxChart(props: { title: string; unit: string; boxes: Box[]; height?: number }) {
  if (!props.boxes.some((b) => Number.isFinite(b.median))) return <TooFewSamples title={props.title} n={0} need={1} what="values" />
  return <BoxPlot {...props} />
}

function BoxPlot({ title, unit, boxes, height = 200 }: { title: string; unit: string; boxes: Box[]; height?: number }) {
  const build = useCallback(
    ({ text, grid }: ChartColors): PlotSpec => {
      const xs = boxes.map((_, i) => i)
      const drawn = boxes.filter((b) => Number.isFinite(b.median))
      const lo = Math.min(...drawn.map((b) => b.min))
      const hi = Math.max(...drawn.map((b) => b.max))
      const pad = (hi - lo || Math.abs(hi) || 1) * 0.1
      return {
        data: [xs, boxes.map((b) => b.median)],
        opts: {
          legend: { show: false },
          cursor: { show: false },
          scales: { x: { time: false, range: [-0.6, boxes.length - 0.4] }, y: { range: [Math.max(0, lo - pad), hi + pad] } },
          series: [{}, { label: unit, paths: () => null, points: { show: false } }],
          axes: [
            { stroke: text, grid: { show: false }, ticks: { show: false }, splits: () => xs, values: () => boxes.map((b) => b.label) },
            { stroke: text, grid: { stroke: grid, width: 1 }, label: unit },
          ],
          hooks: {
            draw: [
              (u) => {
                const ctx = u.ctx
                const w = (u.bbox.width / boxes.length) * 0.45
                const y = (v: number) => u.valToPos(v, 'y', true)
                boxes.forEach((b, i) => {
                  const x = u.valToPos(i, 'x', true)
                  if (!Number.isFinite(b.median)) return drawAbsent(u, x, text)
                  ctx.strokeStyle = b.color
                  ctx.lineWidth = 1.5 * devicePixelRatio
                  ctx.fillStyle = `${b.color}33`
                  ctx.fillRect(x - w / 2, y(b.q3), w, y(b.q1) - y(b.q3))
                  ctx.strokeRect(x - w / 2, y(b.q3), w, y(b.q1) - y(b.q3))
                  ctx.beginPath()
                  ctx.moveTo(x - w / 2, y(b.median))
                  ctx.lineTo(x + w / 2, y(b.median))
                  ctx.moveTo(x, y(b.q3))
                  ctx.lineTo(x, y(b.max))
                  ctx.moveTo(x - w / 4, y(b.max))
                  ctx.lineTo(x + w / 4, y(b.max))
                  ctx.moveTo(x, y(b.q1))
                  ctx.lineTo(x, y(b.min))
                  ctx.moveTo(x - w / 4, y(b.min))
                  ctx.lineTo(x + w / 4, y(b.min))
                  ctx.stroke()
                })
              },
            ],
          },
        },
      }
    },
    [unit, boxes],
  )
  const extras = useCallback(() => ({ boxes: boxes.map((b, i) => ({ ...b, x: i })) }), [boxes])
  return <PlotFigure title={title} height={height} build={build} extras={extras} />
}
