/**
 * The RESP front end's TCP server (@effect/platform-node's socket server): one fiber per connection that
 * pulls bytes (the socket is read only when the parser wants more: TCP backpressure), runs the commands
 * that are complete in order, and writes their replies in one batch (the write waits for the socket to
 * drain). A protocol error is answered and the connection closed; a connection over the limit is refused.
 */
import { Effect } from "effect"
import { NodeSocketServer } from "@effect/platform-node"
import { execute, type ServerContext, type Session } from "./commands.js"
import { encodeReply, ProtocolError, type RespLimits, R, RequestParser } from "./resp.js"

export interface ServeOptions {
  readonly host: string
  readonly port: number
  readonly maxClients: number
  readonly limits: RespLimits
  readonly onListening: (url: string) => void
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
    return yield* server.run((socket) =>
      Effect.gen(function* () {
        // The reader first: acquiring it opens the connection, which the writer waits for.
        const reader = yield* socket.reader
        const writer = yield* socket.writer
        if (open >= o.maxClients) {
          yield* writer.write(encodeReply(R.error("ERR max number of clients reached"), 2)[0]!)
          return
        }
        open++
        yield* Effect.gen(function* () {
          const parser = new RequestParser(o.limits)
          const session: Session = { id: nextId++, protocol: 2, user: ctx.users.size === 0 ? "default" : undefined, db: 0, name: null, closing: false }
          for (;;) {
            const batch = yield* reader.pull
            for (const chunk of batch) parser.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk)
            const out: Array<Uint8Array> = []
            let failed: string | undefined
            for (;;) {
              let args: Array<Buffer> | undefined
              try {
                args = parser.next()
              } catch (e) {
                if (!(e instanceof ProtocolError)) throw e
                failed = e.message
                break
              }
              if (args === undefined) break
              const reply = yield* Effect.promise(() => execute(session, args, context))
              encodeReply(reply, session.protocol, out)
              if (session.closing) break
            }
            if (failed !== undefined) encodeReply(R.error(`ERR Protocol error: ${failed}`), session.protocol, out)
            if (out.length > 0) yield* writer.writeAll(out as [Uint8Array, ...Array<Uint8Array>])
            if (failed !== undefined || session.closing) return
          }
        }).pipe(Effect.scoped, Effect.ignore, Effect.ensuring(Effect.sync(() => open--)))
      }).pipe(Effect.scoped, Effect.ignore)
    )
  }).pipe(Effect.scoped)
