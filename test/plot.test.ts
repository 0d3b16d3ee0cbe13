import { describe, expect, it } from "vitest"
import { renderSvg, svgToPng } from "../experiments/lib/plot.js"

describe("charts", () => {
  it("render a Vega-Lite spec to SVG (vega) and PNG (resvg)", async () => {
    const svg = await renderSvg({
      title: "test chart",
      data: { values: [{ x: 1, y: 2 }, { x: 2, y: 3 }] },
      mark: "line",
      encoding: { x: { field: "x", type: "quantitative" }, y: { field: "y", type: "quantitative" } }
    })
    expect(svg.startsWith("<svg")).toBe(true)
    expect(svg).toContain("test chart")
    const png = svgToPng(svg)
    expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    expect(png.length).toBeGreaterThan(2000)
  })
})
