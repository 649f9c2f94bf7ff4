import { HttpApiEndpoint, HttpApiGroup, HttpApiSchema, OpenApi } from "@effect/platform"
import { Schema } from "effect"
import { NotFound } from "./errors.ts"

/** A console file name: letters, digits, dashes, one extension (never a path). */
export const ConsoleAssetName = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9-]{1,64}\.(js|css|svg)$/, { message: () => "is not a console file" })
)

const page = Schema.String.pipe(HttpApiSchema.withEncoding({ kind: "Text", contentType: "text/html" }))
const asset = HttpApiSchema.param("asset", ConsoleAssetName)

/**
 * The ops console (src/console): its page and its static files, served with a
 * strict Content-Security-Policy. No authentication: the files hold no data; the
 * page calls the same admin API as the CLI, with the token the operator enters.
 */
export class ConsoleApi extends HttpApiGroup.make("console")
  .add(HttpApiEndpoint.get("page", "/console").addSuccess(page).addError(NotFound))
  .add(HttpApiEndpoint.get("asset")`/console/${asset}`.addSuccess(Schema.String).addError(NotFound))
  .annotate(OpenApi.Exclude, true)
{}
