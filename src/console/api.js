// The console's only way to the service: the same HTTP API as the CLI, with
// the admin token as a Bearer token. Failures become an ApiError whose message
// says in words what happened.

export class ApiError extends Error {
  constructor(status, message) {
    super(message)
    this.status = status
  }
}

const TOKEN_KEY = "integration-service.console.token"
const STORE_KEY = "integration-service.console.store"

// sessionStorage only: the token is gone when the tab closes, and never
// written to localStorage, a cookie or the URL.
export const session = {
  token: () => sessionStorage.getItem(TOKEN_KEY),
  store: () => sessionStorage.getItem(STORE_KEY),
  signIn: (token, store) => {
    sessionStorage.setItem(TOKEN_KEY, token)
    sessionStorage.setItem(STORE_KEY, store)
  },
  setStore: (store) => sessionStorage.setItem(STORE_KEY, store),
  signOut: () => {
    sessionStorage.removeItem(TOKEN_KEY)
    sessionStorage.removeItem(STORE_KEY)
  }
}

const inWords = (status, body) => {
  const detail = body && typeof body.message === "string" ? body.message : ""
  switch (status) {
    case 400:
      return `The service refused the request: ${detail || "it is not valid"}.`
    case 401:
      return "The admin token was refused. Sign in with the service's admin token."
    case 403:
      return `Not allowed: ${detail || "this token may not do that"}.`
    case 404:
      return `Not found: ${detail || "no such thing"}.`
    case 409:
      return `Not now: ${detail || "it conflicts with its current state"}.`
    case 413:
      return "The request is larger than the service accepts."
    case 503:
      return `The service is unavailable right now: ${detail || "try again shortly"}.`
    default:
      return `The service answered ${status}${detail ? `: ${detail}` : ""}.`
  }
}

/** `/stores/{store}/…` with every segment encoded (a store id is never read as a path). */
export const storePath = (store, ...segments) =>
  ["", "stores", store, ...segments].map((segment, i) => (i === 0 ? "" : encodeURIComponent(segment))).join("/")

const query = (params) => {
  const search = new URLSearchParams()
  for (const [key, value] of Object.entries(params ?? {})) {
    if (value !== undefined && value !== null && value !== "") search.set(key, String(value))
  }
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

export const request = async (method, path, { params, body, token = session.token() } = {}) => {
  let response
  try {
    response = await fetch(`${path}${query(params)}`, {
      method,
      headers: {
        authorization: `Bearer ${token ?? ""}`,
        ...(body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      cache: "no-store",
      credentials: "omit"
    })
  } catch {
    throw new ApiError(0, "The service could not be reached. Check that it is running and try again.")
  }
  const text = await response.text()
  let parsed
  try {
    parsed = text === "" ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  if (!response.ok) throw new ApiError(response.status, inWords(response.status, parsed))
  return parsed
}

export const api = {
  get: (path, params, options) => request("GET", path, { ...options, params }),
  post: (path, body = {}) => request("POST", path, { body }),
  patch: (path, body) => request("PATCH", path, { body }),
  del: (path) => request("DELETE", path)
}
