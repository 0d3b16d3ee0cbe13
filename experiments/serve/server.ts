/**
 * The RESP front end's TCP server: @effect/platform-node's socket server accepts connections and owns
 * their lifetime (closed with the server's scope); each connection is served by plain callbacks on its
 * Node socket (NodeSocket.NetSocket), not by a fiber per command: a GET's round trip is tens of
 * microseconds, and a fiber's resumptions per command cost a measurable share of it (docs/performance.md).
 * The socket is paused while its commands run and while a reply waits to drain (TCP backpressure: no
 * bytes are read that the parser does not want yet); complete commands run in order and their replies go
 * out in one write. A protocol error is answered and the connection closed; a connection over the limit
 * is refused.
 */
import type { Socket } from "node:net"
import { Effect } from "effect"
import { NodeSocket, NodeSocketServer } from "@effect/platform-node"
import { execute, type ServerContext, type Session } from "./commands.js"
import { encodeReply, ProtocolError, type RespLimits, R, RequestParser } from "./resp.js"

/** Replies up to this size are copied into one buffer before writing; bigger ones are written in pieces. */
const COALESCE_BYTES = 256 * 1024
/** Replies held before they are written (and, if the socket is full, drained) and more commands run. */
const FLUSH_BYTES = 64 * 1024

export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly maxClients: number
  readonly limits: RespLimits
  readonly onListening: (url: string) => void
}

/** Write reply pieces; false if the socket's buffer is full (wait for "drain"). */
const writeOut = (conn: Socket, out: ReadonlyArray<Uint8Array>): boolean => {
  const size = out.reduce((n, p) => n + p.length, 0)
  if (out.length === 1 || size > COALESCE_BYTES) {
    let ok = true
    for (const piece of out) ok = conn.write(piece)
    return ok
  }
  return conn.write(Buffer.concat(out, size))
}

/** Resolves once the socket has drained or closed (and leaves no listener behind either way). */
const drainedOrClosed = (conn: Socket): Promise<void> =>
  new Promise((resolve) => {
    const done = () => {
      conn.off("drain", done)
      conn.off("close", done)
      resolve()
    }
    conn.on("drain", done)
    conn.on("close", done)
  })

/** Serve one connection until it closes; `closed` is called once, when it has. */
const serveConnection = (conn: Socket, session: Session, limits: RespLimits, context: ServerContext, closed: () => void): void => {
  const parser = new RequestParser(limits, () => session.user !== undefined)
  let busy = false
  let ended = false
  /** Run every complete command, write the replies, and again while more arrived meanwhile. */
  const run = async (): Promise<void> => {
    busy = true
    conn.pause()
    try {
      for (;;) {
        const out: Array<Uint8Array> = []
        let failed: string | undefined
        // Pipelined commands run until their replies fill FLUSH_BYTES: a client that sends many and reads
        // none gets no more work done than its socket can hold.
        for (let held = 0; held < FLUSH_BYTES; ) {
          let args: Array<Buffer> | undefined
          try {
            args = parser.next()
          } catch (e) {
            if (!(e instanceof ProtocolError)) throw e
            failed = e.message
            break
          }
          if (args === undefined) break
          const pieces = out.length
          encodeReply(await execute(session, args, context), session.protocol, out)
          for (let i = pieces; i < out.length; i++) held += out[i]!.length
          if (session.closing || ended) break
        }
        if (failed !== undefined) encodeReply(R.error(`ERR Protocol error: ${failed}`), session.protocol, out)
        if (ended) return
        if (failed !== undefined || session.closing) {
          if (out.length > 0) writeOut(conn, out)
          ended = true
          conn.end()
          return
        }
        if (out.length === 0) return
        if (!writeOut(conn, out)) await drainedOrClosed(conn)
      }
    } catch {
      ended = true
      conn.destroy()
    } finally {
      busy = false
      if (!ended) conn.resume()
    }
  }
  conn.on("data", (chunk: Buffer) => {
    parser.push(chunk)
    if (!busy) void run()
  })
  conn.on("error", () => {}) // "close" follows
  conn.on("close", () => {
    ended = true
    closed()
  })
  // The server hands connections over paused (they may queue before it runs): start reading.
  conn.resume()
}

export const serveResp = (ctx: Omit<ServerContext, "connections" | "port">, o: ServeOptions) =>
  Effect.gen(function* () {
    const server = yield* NodeSocketServer.make({ port: o.port, host: o.host })
    const address = server.address
    const port = address._tag === "UnixPathAddress" ? o.port : address.port
    let open = 0
    let nextId = 1
    const context: ServerContext = { ...ctx, port, connections: () => open }
    o.onListening(`redis://${o.host}:${port}`)
    yield* Effect.forkChild(Effect.forever(Effect.andThen(Effect.promise(() => ctx.tier.idle()), Effect.sleep(50))))
    return yield* server.run(() =>
      Effect.gen(function* () {
        // The server provides every connection's Node socket (its run adds NetSocket to the handler's context).
        const found = yield* Effect.serviceOption(NodeSocket.NetSocket)
        if (found._tag === "None") return yield* Effect.die(new Error("the socket server did not provide the connection's NetSocket"))
        const conn = found.value
        if (open >= o.maxClients) {
          conn.end(encodeReply(R.error("ERR max number of clients reached"), 2)[0]!)
          return
        }
        open++
        const session: Session = { id: nextId++, protocol: 2, user: ctx.users.size === 0 ? "default" : undefined, db: 0, name: null, closing: false }
        // Until the connection closes; if the server stops first, the connection goes with it.
        yield* Effect.callback<void>((resume) => {
          serveConnection(conn, session, o.limits, context, () => {
            open--
            resume(Effect.void)
          })
          return Effect.sync(() => conn.destroy())
        })
      }).pipe(Effect.ignore)
    )
  }).pipe(Effect.scoped)
