/**
 * Error messages quote what the client sent only in part: a 400 for a 3 MB
 * value must not send the 3 MB back (nor fill a log line with it).
 */

/** Characters of a client's value an error message may quote. */
export const maxQuotedChars = 100
/** An error message is cut here, whatever it holds. */
export const maxMessageChars = 2_000

/** `text`, or its first `maxQuotedChars` characters and how long it was. */
export const clipValue = (text: string) =>
  text.length <= maxQuotedChars ? text : `${text.slice(0, maxQuotedChars)}…(${text.length} characters)`

/**
 * A message with every long run of non-space characters clipped (a value
 * quoted in it, whatever the quoting), and the whole capped.
 */
export const clipMessage = (message: string) => {
  const clipped = message.replace(/\S{101,}/g, clipValue)
  return clipped.length <= maxMessageChars ? clipped : `${clipped.slice(0, maxMessageChars)}…`
}

/** Schema's messages end in `, actual <the value>`: that part is the client's, clipped as a whole (spaces included). */
export const clipSchemaMessage = (message: string) => {
  const at = message.indexOf(", actual ")
  if (at < 0) return clipMessage(message)
  return `${clipMessage(message.slice(0, at))}, actual ${clipValue(message.slice(at + ", actual ".length))}`
}
