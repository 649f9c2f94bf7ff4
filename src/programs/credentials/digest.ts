import { Effect } from "effect"
import { sha256HexSync } from "../../domain/sha256.ts"

/** Lowercase hex SHA-256: how presented secrets are named in caches and how access tokens are stored. */
export const sha256Hex = (text: string): Effect.Effect<string> => Effect.sync(() => sha256HexSync(text))
