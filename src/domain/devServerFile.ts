import { Schema } from "effect"

/**
 * What a running dev server (`npm start`) writes to `<data dir>/dev-server.json` (mode 0600,
 * removed when it stops), so that the CLI run in the same directory finds it on whatever port
 * it bound, with its admin token, without flags.
 */
export const devServerFileName = "dev-server.json"

export const DevServerFile = Schema.parseJson(Schema.Struct({
  url: Schema.String,
  adminToken: Schema.Redacted(Schema.String),
  pid: Schema.Int
}))
