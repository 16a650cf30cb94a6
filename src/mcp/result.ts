import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { WardenError } from '../core/errors.js';

/**
 * Runs a tool and answers as MCP expects: the JSON result as text, or an error result a
 * model can read (`isError`), with warden's stable code in front.
 */
export async function toolResult(work: () => Promise<unknown>): Promise<CallToolResult> {
  try {
    const value = await work();
    return { content: [{ type: 'text', text: JSON.stringify(value, null, 2) }] };
  } catch (err) {
    const text =
      err instanceof WardenError
        ? `${err.code}: ${err.message}`
        : `error: ${(err as Error).message}`;
    return { isError: true, content: [{ type: 'text', text }] };
  }
}
