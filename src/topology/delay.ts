/**
 * What a link costs a message: propagation (length / c), a fixed processing delay per hop (switching,
 * queue admission, coding), and serialization (bytes * 8 / bandwidth). Defaults: 0.1 ms per hop, 10 Gbit/s
 * laser ISLs (optical terminals of current LEO systems are specified at 10 to 100 Gbit/s).
 */
import { SPEED_OF_LIGHT_KM_S } from "./constants.js"

export interface LinkModel {
  readonly perHopProcessingSeconds: number
  readonly islBandwidthBitsPerSecond: number
  readonly groundBandwidthBitsPerSecond: number
}

export const defaultLinkModel: LinkModel = {
  perHopProcessingSeconds: 1e-4,
  islBandwidthBitsPerSecond: 10e9,
  groundBandwidthBitsPerSecond: 1e9
}

/** Light time over a distance, seconds. */
export const propagationSeconds = (km: number): number => km / SPEED_OF_LIGHT_KM_S
