/**
 * Reasons cut to fit a line. A failed run's reason reads "what ended it; advice; last output:
 * "the worker's last line"", and the worker's line is what a person acts on (an agent's
 * "Incorrect API key provided"): cut from the end, a long reason lost it to the advice.
 */

/** The text on one line, cut with an ellipsis past `max` characters. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

const QUOTE = '; last output: "';

/** Room the worker's line keeps at least before the reason's lead is cut to its label. */
const QUOTE_ROOM = 40;

/** A JSON string's text from between its quotes (`\n`, `\u00e9`), as it was if it was cut. */
function jsonText(text: string): string {
  try {
    return JSON.parse(`"${text}"`) as string;
  } catch {
    return text;
  }
}

/**
 * The worker's line without the noise around its message: a JSON error printed inside it
 * (`401 Unauthorized: {"error":{"message":"Incorrect API key ..."}}`) is read for its
 * message, also when the stored line was cut inside the JSON.
 */
function quoteGist(quote: string): string {
  const open = quote.indexOf('{');
  if (open < 0) return quote;
  const close = quote.lastIndexOf('}');
  const end = close > open ? close + 1 : quote.length;
  const message = /"message"\s*:\s*"((?:[^"\\]|\\.)*)"/.exec(quote.slice(open, end))?.[1];
  if (message === undefined || message === '') return quote;
  return `${quote.slice(0, open)}${jsonText(message)}${quote.slice(end)}`;
}

/**
 * A reason in `max` characters that keeps the worker's own words: past the width, the lead
 * (what ended the run, up to its first `;`) and the quoted last output, without the advice
 * between; and when the lead would leave the quote too little room, only the lead's label
 * (`blocked (failed): config_error`). A reason with no quoted output is cut from the end.
 */
export function gist(text: string, max: number): string {
  const flat = oneLine(text, Number.MAX_SAFE_INTEGER);
  const at = flat.indexOf(QUOTE);
  if (flat.length <= max || at < 0) return oneLine(flat, max);
  const lead = flat.slice(0, at).split('; ')[0] ?? '';
  const quote = quoteGist(flat.slice(at + QUOTE.length).replace(/"$/, ''));
  if (lead.length + QUOTE.length + QUOTE_ROOM <= max) {
    return oneLine(`${lead}${QUOTE}${quote}"`, max);
  }
  const parts = lead.split(': ');
  const label = parts.length > 1 ? parts.slice(0, -1).join(': ') : lead;
  return oneLine(`${label}: "${quote}"`, max);
}
