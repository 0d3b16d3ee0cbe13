/**
 * Charts for results: a Vega-Lite spec compiled by vega-lite, rendered headless to SVG by vega's own
 * renderer, and to PNG by resvg. No hand-written SVG.
 */
import { Resvg } from "@resvg/resvg-js"
import * as vega from "vega"
import * as vl from "vega-lite"

export type ChartSpec = vl.TopLevelSpec

export const renderSvg = async (spec: ChartSpec): Promise<string> => {
  const compiled = vl.compile(spec).spec
  const view = new vega.View(vega.parse(compiled), { renderer: "none" })
  try {
    return await view.toSVG()
  } finally {
    view.finalize()
  }
}

export const svgToPng = (svg: string, scale = 2): Uint8Array =>
  new Resvg(svg, { fitTo: { mode: "zoom", value: scale }, background: "white", font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng()

export interface WrittenChart {
  readonly svg: string
  readonly png: string
}

/** Render a chart and write NAME.svg and NAME.png through `write` (atomic writes of a run directory). */
export const writeChart = async (write: (name: string, data: string | Uint8Array) => string, name: string, spec: ChartSpec): Promise<WrittenChart> => {
  const svg = await renderSvg(spec)
  return { svg: write(`${name}.svg`, svg), png: write(`${name}.png`, svgToPng(svg)) }
}
