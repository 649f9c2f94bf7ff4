/**
 * The ceiling of bench/validate.ts: a plain `node:http` server, in the same
 * process as the service, answering every request with the bytes validate
 * answers for a good key (status, headers, body) and doing nothing else. What
 * Node itself manages on this machine, in this run.
 */
import { createServer } from "node:http"

export const startCeiling = async (answer: { readonly headers: Record<string, string>; readonly body: Buffer }) => {
  const server = createServer({ keepAliveTimeout: 65_000 }, (_request, response) => {
    response.writeHead(200, answer.headers)
    response.end(answer.body)
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const address = server.address()
  if (address === null || typeof address === "string") throw new Error("the ceiling server has no TCP address")
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      })
  }
}
