import { useEffect, useRef } from 'react'
import uPlot, { type Options } from 'uplot'
import 'uplot/dist/uPlot.min.css'
import { ChartActions, TooFewSamples } from './ChartActions'

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
  const drawable = props.boxes.filter((b) => Number.isFinite(b.median))
  if (!drawable.length) return <TooFewSamples title={props.title} n={0} need={1} what="values" />
  return <BoxPlot {...props} boxes={drawable} />
}

function BoxPlot({ title, unit, boxes, height = 200 }: { title: string; unit: string; boxes: Box[]; height?: number }) {
  const host = useRef<HTMLDivElement>(null)
  const plotRef = useRef<uPlot>(undefined)
  useEffect(() => {
    const el = host.current!
    const css = getComputedStyle(document.documentElement)
    const text = css.getPropertyValue('--muted').trim() || '#666'
    const grid = css.getPropertyValue('--line').trim() || '#ddd'
    const xs = boxes.map((_, i) => i)
    const lo = Math.min(...boxes.map((b) => b.min))
    const hi = Math.max(...boxes.map((b) => b.max))
    const pad = (hi - lo || Math.abs(hi) || 1) * 0.1
    const opts: Options = {
      title,
      width: el.clientWidth || 320,
      height,
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
    }
    const plot = new uPlot(opts, [xs, boxes.map((b) => b.median)], el)
    plotRef.current = plot
    const observer = new ResizeObserver(() => plot.setSize({ width: el.clientWidth, height }))
    observer.observe(el)
    return () => {
      observer.disconnect()
      plot.destroy()
    }
  }, [title, unit, boxes, height])
  return (
    <figure className="chart-figure">
      <div className="chart" ref={host} role="img" aria-label={title} />
      <ChartActions plot={() => plotRef.current} title={title} extras={() => ({ boxes: boxes.map((b, i) => ({ ...b, x: i })) })} />
    </figure>
  )
}
