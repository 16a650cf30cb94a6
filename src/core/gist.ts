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

/** How a failure's reason names its cause after the summary of the tries (accounting.ts). */
const CAUSE = ' — ';

/** The lead's label: its words before the last `: ` (`blocked (failed): config_error`). */
function labelOf(lead: string): string {
  const parts = lead.split(': ');
  return parts.length > 1 ? parts.slice(0, -1).join(': ') : lead;
}

/**
 * A reason in `max` characters that keeps the worker's own words: past the width, the lead
 * (what ended the run, up to its first `;`) and the quoted last output, without the advice
 * between; and when the lead would leave the quote too little room, only the lead's label
 * (`blocked (failed): config_error`). With no quoted output, a failure's cause after its ` — `
 * (`gave_up: 3 failed runs (...); last: crashed — ROOT CAUSE: ...`: the worker's `fail`
 * reason) is kept the same way. Any other reason is cut from the end.
 */
export function gist(text: string, max: number): string {
  const flat = oneLine(text, Number.MAX_SAFE_INTEGER);
  if (flat.length <= max) return flat;
  const at = flat.indexOf(QUOTE);
  if (at >= 0) {
    const lead = flat.slice(0, at).split('; ')[0] ?? '';
    const quote = quoteGist(flat.slice(at + QUOTE.length).replace(/"$/, ''));
    if (lead.length + QUOTE.length + QUOTE_ROOM <= max) {
      return oneLine(`${lead}${QUOTE}${quote}"`, max);
    }
    return oneLine(`${labelOf(lead)}: "${quote}"`, max);
  }
  const dash = flat.indexOf(CAUSE);
  if (dash < 0) return oneLine(flat, max);
  const lead = flat.slice(0, dash).split('; ')[0] ?? '';
  const cause = flat.slice(dash + CAUSE.length);
  const head = lead.length + CAUSE.length + QUOTE_ROOM <= max ? lead : labelOf(lead);
  return oneLine(`${head}${CAUSE}${cause}`, max);
}
