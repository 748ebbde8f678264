/**
 * A value from a user's file as an error message shows it: JSON text cut to a few dozen
 * characters, so that the message stays one short line whatever the file holds (a name with a
 * newline is escaped, a 100 MB array is cut), and safe on JSON nested too deep for
 * JSON.stringify, which throws a RangeError past about 10,000 levels where JSON.parse does not.
 */
export function shownValue(v: unknown, maxChars = 60): string {
  let text: string;
  try {
    text = typeof v === 'number' ? String(v) : JSON.stringify(v) ?? String(v);
  } catch {
    text = Array.isArray(v) ? '[…nested too deeply to show…]' : '{…nested too deeply to show…}';
  }
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

/** Like `shownValue`, but a string in single quotes ('vq'), as messages quote names and choices. */
export function quotedValue(v: unknown, maxChars = 60): string {
  if (typeof v !== 'string') return shownValue(v, maxChars);
  const inner = JSON.stringify(v).slice(1, -1);
  return `'${inner.length > maxChars ? `${inner.slice(0, maxChars)}…` : inner}'`;
}
