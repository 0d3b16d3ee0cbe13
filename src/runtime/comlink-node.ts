/**
 * comlink's adapter from a Node MessagePort to a comlink Endpoint. It ships only as UMD, whose
 * module.exports is the function itself, so under ESM it arrives as the default export of a CommonJS
 * module; this one line of glue makes that shape explicit for the type checker.
 */
import type { Endpoint } from "comlink"
import adapter from "comlink/dist/umd/node-adapter.js"

type NodeEndpointFn = (port: unknown) => Endpoint
const fn = ((adapter as unknown as { default?: NodeEndpointFn }).default ?? adapter) as unknown as NodeEndpointFn

export const nodeEndpoint = (port: import("node:worker_threads").MessagePort): Endpoint => fn(port)
