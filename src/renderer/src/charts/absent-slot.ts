import type uPlot from 'uplot'

/** Writes "not measured" in a group's empty slot of a bar or box chart: an absent figure never reads as 0. */
export function drawAbsent(u: uPlot, x: number, color: string): void {
  const ctx = u.ctx
  const mid = u.bbox.top + u.bbox.height / 2
  ctx.save()
  ctx.fillStyle = color
  ctx.font = `${11 * devicePixelRatio}px sans-serif`
  ctx.textAlign = 'center'
  ctx.fillText('not', x, mid - 7 * devicePixelRatio)
  ctx.fillText('measured', x, mid + 7 * devicePixelRatio)
  ctx.restore()
}
