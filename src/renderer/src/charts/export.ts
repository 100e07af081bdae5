import type uPlot from 'uplot'

/** Saves a blob under a file name through a temporary link (works in Electron and the browser). */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = Object.assign(document.createElement('a'), { href: url, download: filename })
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export const fileStem = (title: string): string => title.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'chart'

/** The plot's canvas (axes, series, markers) on a white page with its title, as PNG. */
export function plotPng(u: uPlot, title: string): Promise<Blob> {
  const src = u.ctx.canvas
  const pad = 28 * devicePixelRatio
  const out = document.createElement('canvas')
  out.width = src.width
  out.height = src.height + pad
  const ctx = out.getContext('2d')!
  ctx.fillStyle = '#fff'
  ctx.fillRect(0, 0, out.width, out.height)
  ctx.fillStyle = '#111'
  ctx.font = `600 ${14 * devicePixelRatio}px system-ui, sans-serif`
  ctx.fillText(title, 8 * devicePixelRatio, 19 * devicePixelRatio)
  ctx.drawImage(src, 0, pad)
  return new Promise((resolve, reject) => out.toBlob((b) => (b ? resolve(b) : reject(new Error('PNG encoding failed'))), 'image/png'))
}

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!)
const num = (v: number) => (Math.abs(v) >= 1000 || v === Math.round(v) ? String(Math.round(v)) : v.toPrecision(3))

export interface SvgExtras {
  /** Vertical markers (x value, label, colour). */
  markers?: { x: number; label: string; color: string }[]
  /** Shaded x ranges. */
  bands?: { from: number; to: number; color: string }[]
  /** Bars drawn instead of series lines (bar charts): x index, value, CI half-width, colour. */
  bars?: { x: number; value: number; ci?: number; color: string; label: string }[]
  /** Box plots instead of series lines: x index, five numbers, colour. */
  boxes?: { x: number; min: number; q1: number; median: number; q3: number; max: number; color: string; label: string }[]
}

/**
 * A vector copy of a uPlot chart: its scales as they are on screen, each visible series as a
 * polyline (or dots / bars), axis ticks, markers and bands. Good enough for a thesis figure.
 */
export function plotSvg(u: uPlot, title: string, extras: SvgExtras = {}): Blob {
  const W = Math.round(u.width)
  const H = Math.round(u.height) + 24
  const dpr = devicePixelRatio
  const box = { left: u.bbox.left / dpr, top: u.bbox.top / dpr + 24, width: u.bbox.width / dpr, height: u.bbox.height / dpr }
  const X = (v: number) => box.left + u.valToPos(v, 'x')
  const parts: string[] = []
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`, `<text x="8" y="17" font-size="14" font-weight="600">${esc(title)}</text>`)
  for (const b of extras.bands ?? []) parts.push(`<rect x="${X(b.from)}" y="${box.top}" width="${Math.max(1, X(b.to) - X(b.from))}" height="${box.height}" fill="${b.color}"/>`)
  parts.push(`<rect x="${box.left}" y="${box.top}" width="${box.width}" height="${box.height}" fill="none" stroke="#bbb"/>`)
  // Axes: the ticks uPlot chose, with their labels.
  u.axes.forEach((axis, i) => {
    const scale = axis.scale ?? (i === 0 ? 'x' : 'y')
    const s = u.scales[scale]
    if (s.min === undefined || s.max === undefined || s.min === null || s.max === null) return
    const ticks = Array.from({ length: 6 }, (_, k) => s.min! + ((s.max! - s.min!) * k) / 5)
    for (const t of ticks) {
      if (scale === 'x') {
        const x = X(t)
        parts.push(`<line x1="${x}" y1="${box.top + box.height}" x2="${x}" y2="${box.top + box.height + 4}" stroke="#888"/>`)
        if (!extras.bars && !extras.boxes) parts.push(`<text x="${x}" y="${box.top + box.height + 16}" font-size="10" text-anchor="middle">${num(t)}</text>`)
      } else {
        const y = box.top + u.valToPos(t, scale)
        const right = axis.side === 1
        const x = right ? box.left + box.width : box.left
        parts.push(`<line x1="${x - 4}" y1="${y}" x2="${x}" y2="${y}" stroke="#888"/>`)
        parts.push(`<text x="${right ? x + 6 : x - 6}" y="${y + 3}" font-size="10" text-anchor="${right ? 'start' : 'end'}">${num(t)}</text>`)
      }
    }
    if (axis.label) {
      const label = esc(String(axis.label))
      if (scale === 'x') parts.push(`<text x="${box.left + box.width / 2}" y="${H - 4}" font-size="11" text-anchor="middle">${label}</text>`)
      else {
        const x = axis.side === 1 ? W - 6 : 12
        parts.push(`<text transform="translate(${x} ${box.top + box.height / 2}) rotate(-90)" font-size="11" text-anchor="middle">${label}</text>`)
      }
    }
  })
  if (extras.boxes) {
    const w = (box.width / Math.max(1, extras.boxes.length)) * 0.45
    const Y = (v: number) => box.top + u.valToPos(v, 'y')
    for (const b of extras.boxes) {
      const x = X(b.x)
      parts.push(`<rect x="${x - w / 2}" y="${Y(b.q3)}" width="${w}" height="${Math.max(0, Y(b.q1) - Y(b.q3))}" fill="${b.color}" fill-opacity="0.2" stroke="${b.color}" stroke-width="1.5"/>`)
      parts.push(
        `<path d="M${x - w / 2} ${Y(b.median)}H${x + w / 2}M${x} ${Y(b.q3)}V${Y(b.max)}M${x - w / 4} ${Y(b.max)}H${x + w / 4}M${x} ${Y(b.q1)}V${Y(b.min)}M${x - w / 4} ${Y(b.min)}H${x + w / 4}" stroke="${b.color}" stroke-width="1.5" fill="none"/>`,
      )
      parts.push(`<text x="${x}" y="${box.top + box.height + 16}" font-size="10" text-anchor="middle">${esc(b.label)}</text>`)
    }
  } else if (extras.bars) {
    const w = (box.width / Math.max(1, extras.bars.length)) * 0.6
    for (const b of extras.bars) {
      const x = X(b.x)
      const y = box.top + u.valToPos(b.value, 'y')
      const y0 = box.top + u.valToPos(0, 'y')
      parts.push(`<rect x="${x - w / 2}" y="${y}" width="${w}" height="${Math.max(0, y0 - y)}" fill="${b.color}"/>`)
      parts.push(`<text x="${x}" y="${box.top + box.height + 16}" font-size="10" text-anchor="middle">${esc(b.label)}</text>`)
      if (b.ci) {
        const lo = box.top + u.valToPos(Math.max(0, b.value - b.ci), 'y')
        const hi = box.top + u.valToPos(b.value + b.ci, 'y')
        parts.push(`<path d="M${x} ${lo}V${hi}M${x - w / 6} ${hi}H${x + w / 6}M${x - w / 6} ${lo}H${x + w / 6}" stroke="#333" stroke-width="1.5" fill="none"/>`)
      }
    }
  } else {
    u.series.forEach((s, i) => {
      if (i === 0 || s.show === false) return
      const xs = u.data[0]
      const ys = u.data[i]
      const scale = s.scale ?? 'y'
      const pts: string[] = []
      for (let k = 0; k < xs.length; k++) {
        const v = ys[k]
        if (v === null || v === undefined) continue
        pts.push(`${X(xs[k]).toFixed(1)},${(box.top + u.valToPos(v, scale)).toFixed(1)}`)
      }
      const color = typeof s.stroke === 'function' ? '#333' : String(s.stroke ?? '#333')
      const dots = typeof s.points?.show === 'boolean' && s.points.show
      if (dots) parts.push(`<g fill="${color}">${pts.map((p) => `<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="1.5"/>`).join('')}</g>`)
      else parts.push(`<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${pts.join(' ')}"/>`)
      parts.push(`<text x="${box.left + 8 + (i - 1) * 140}" y="${H - 4}" font-size="10" fill="${color}">${esc(String(s.label ?? ''))}</text>`)
    })
  }
  for (const m of extras.markers ?? []) {
    const x = X(m.x)
    parts.push(`<line x1="${x}" y1="${box.top}" x2="${x}" y2="${box.top + box.height}" stroke="${m.color}" stroke-dasharray="4 3"/>`)
    parts.push(`<text x="${x + 3}" y="${box.top + 12}" font-size="10" fill="${m.color}">${esc(m.label)}</text>`)
  }
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">${parts.join('')}</svg>\n`
  return new Blob([svg], { type: 'image/svg+xml' })
}
