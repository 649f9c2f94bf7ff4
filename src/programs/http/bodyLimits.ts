import type { FrontDoorAnswer, FrontDoorRequest } from "../../services/HttpFrontDoor.ts"

/** Request bodies of every route but the token endpoint: `HTTP_MAX_BODY_BYTES`, this by default. */
export const defaultMaxBodyBytes = 64 * 1024
/** `POST /oauth/token` is unauthenticated and its form is a few short fields. */
export const tokenMaxBodyBytes = 8 * 1024

const pathOf = (url: string) => {
  const query = url.indexOf("?")
  return query < 0 ? url : url.slice(0, query)
}

/** The body limit of a request, by route. */
export const bodyLimitOf = (maxBodyBytes: number) => (request: Pick<FrontDoorRequest, "url">) =>
  pathOf(request.url) === "/oauth/token" ? Math.min(tokenMaxBodyBytes, maxBodyBytes) : maxBodyBytes

export const tooLargeMessage = (limit: number) => `the request body is larger than ${limit} bytes, the most this route accepts`

const encoder = new TextEncoder()
const tooLargeAnswers = new Map<number, FrontDoorAnswer>()

/**
 * 413 with the API's error body. `Connection: close`: the rest of the body is
 * not read, so the connection cannot carry another request.
 */
export const tooLargeAnswer = (limit: number): FrontDoorAnswer => {
  let answer = tooLargeAnswers.get(limit)
  if (answer === undefined) {
    const body = encoder.encode(JSON.stringify({ error: "payload_too_large", message: tooLargeMessage(limit) }))
    answer = {
      status: 413,
      headers: { connection: "close", "content-type": "application/json", "content-length": String(body.length) },
      body
    }
    tooLargeAnswers.set(limit, answer)
  }
  return answer
}
