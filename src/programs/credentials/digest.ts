import { Effect } from "effect"

const encoder = new TextEncoder()

/** Lowercase hex SHA-256: how presented secrets are named in caches and how access tokens are stored. */
export const sha256Hex = (text: string): Effect.Effect<string> =>
  Effect.promise(() => crypto.subtle.digest("SHA-256", encoder.encode(text))).pipe(
    Effect.map((buffer) => {
      const bytes = new Uint8Array(buffer)
      let out = ""
      for (let i = 0; i < bytes.length; i++) out += bytes[i]!.toString(16).padStart(2, "0")
      return out
    })
  )
