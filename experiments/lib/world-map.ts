/**
 * Layers for charts on a world map: land outlines from the world-atlas data set (Natural Earth 1:110m,
 * TopoJSON), equirectangular projection, drawn by vega-lite's geoshape. Points and lines go on top with
 * longitude/latitude encodings.
 */
import { createRequire } from "node:module"
import type { ChartSpec } from "./plot.js"

const land = createRequire(import.meta.url)("world-atlas/land-110m.json") as object

export const MAP_WIDTH = 720
export const MAP_HEIGHT = 360

export const landLayer = {
  data: { values: land, format: { type: "topojson", feature: "land" } },
  mark: { type: "geoshape", fill: "#e8e8e8", stroke: "#b0b0b0", strokeWidth: 0.5 }
} as const

/** A map chart: land, then `layers` (each with its own data and lon/lat encodings). */
export const worldMap = (title: string, layers: ReadonlyArray<object>): ChartSpec => ({
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  title,
  width: MAP_WIDTH,
  height: MAP_HEIGHT,
  projection: { type: "equirectangular" },
  layer: [landLayer, ...layers]
}) as ChartSpec
