/**
 * Text from outside (a receiver's answer, a marketplace's error message) made
 * storable in a PostgreSQL `text` column: PostgreSQL refuses the NUL character,
 * and a lone UTF-16 surrogate has no UTF-8 encoding. Both become U+FFFD, and
 * the text is cut to `maxChars` without splitting a surrogate pair.
 */
const nul = /\u0000/g
const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g

export const storableText = (text: string, maxChars: number): string => {
  let out = text.length > maxChars ? text.slice(0, maxChars) : text
  // A pair cut in half by the slice leaves a lone high surrogate at the end.
  const last = out.charCodeAt(out.length - 1)
  if (out.length < text.length && last >= 0xd800 && last <= 0xdbff) out = out.slice(0, -1)
  return out.replace(nul, "\uFFFD").replace(loneSurrogate, "\uFFFD")
}

/** Null stays null. */
export const storableOrNull = (text: string | null, maxChars: number): string | null =>
  text === null ? null : storableText(text, maxChars)
