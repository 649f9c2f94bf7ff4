import { HttpApi, OpenApi } from "@effect/platform"
import { HealthApi } from "./HealthApi.ts"

/** The whole HTTP API; `GET /openapi.json` is generated from it. */
export class Api extends HttpApi.make("integration-service")
  .add(HealthApi)
  .annotate(OpenApi.Title, "ShopSTAR3 integration-service")
  .annotate(OpenApi.Version, "1")
{}
