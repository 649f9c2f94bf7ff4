/** Reading marketplace JSON of unknown shape (error bodies, loosely documented fields). */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

export const str = (u: unknown) => (typeof u === "string" ? u : u === undefined || u === null ? "" : String(u))

/** At most `max` characters of `text`, "…" marking a cut. */
export const clip = (text: string, max: number) => (text.length > max ? `${text.slice(0, max)}…` : text)
