import { z } from '@hono/zod-openapi';
import { BLOCK_KINDS } from '../core/status.js';
import { INPUT_LIMITS } from '../core/defaults.js';
import { POLICY_KEYS } from '../core/policy.js';
import { refuseCharacters } from '../core/validate.js';

/**
 * Request bodies of the HTTP API. They check shape and size at the edge; the store checks
 * meaning (ids, transitions, limits) behind every door.
 */

const note = z
  .string()
  .max(2000)
  .superRefine(refuseCharacters(true))
  .optional()
  .openapi({ description: 'a short note shown on the card' });

export const NoteBody = z.object({ note }).strict().openapi('NoteBody');

export const CommentBody = z
  .object({ body: z.string().min(1).max(INPUT_LIMITS.comment_max_bytes) })
  .strict()
  .openapi('CommentBody');

const json = z.unknown().openapi({ description: 'any JSON value' });

export const CompleteBody = z
  .object({
    summary: z
      .string()
      .max(INPUT_LIMITS.summary_max_bytes)
      .openapi({ description: 'what was done, for people and child tasks' }),
    metadata: json.optional(),
    created: z
      .array(z.number().int().positive())
      .max(1000)
      .optional()
      .openapi({ description: 'tasks this task created, each checked' }),
  })
  .strict()
  .openapi('CompleteBody');

export const FailBody = z
  .object({ reason: z.string().min(1).max(INPUT_LIMITS.summary_max_bytes) })
  .strict()
  .openapi('FailBody');

export const BlockBody = z
  .object({
    reason: z.string().min(1).max(INPUT_LIMITS.block_reason_max_chars),
    kind: z.enum(BLOCK_KINDS as [string, ...string[]]),
  })
  .strict()
  .openapi('BlockBody');

export const ApproveBody = z
  .object({ summary: z.string().max(INPUT_LIMITS.summary_max_bytes) })
  .strict()
  .openapi('ApproveBody');

export const AskBody = z
  .object({ question: z.string().min(1).max(INPUT_LIMITS.summary_max_bytes) })
  .strict()
  .openapi('AskBody');

export const CreateBody = z
  .object({
    title: z.string(),
    body: z.string().optional(),
    assignee: z.string().nullable().optional(),
    priority: z.number().int().optional(),
    parents: z.array(z.number().int().positive()).max(100).optional(),
    idempotency_key: z.string().optional(),
    after_me: z
      .boolean()
      .optional()
      .openapi({ description: 'the child waits until this task is done' }),
    policy: z.record(z.string(), z.unknown()).optional(),
  })
  .strict()
  .openapi('CreateBody');

export const LinkBody = z
  .object({ parent: z.number().int().positive(), child: z.number().int().positive() })
  .strict()
  .openapi('LinkBody');

export const StopBody = z
  .object({
    requeue: z
      .boolean()
      .optional()
      .openapi({ description: 'put the task back in line instead of blocking it' }),
    now: z.boolean().optional().openapi({ description: 'skip kill_grace: SIGKILL at once' }),
    archive: z
      .boolean()
      .optional()
      .openapi({ description: 'archive the task once the run has ended' }),
    reason: z
      .string()
      .min(1)
      .max(INPUT_LIMITS.block_reason_max_chars)
      .optional()
      .openapi({ description: 'the block reason (default: "stopped by NAME")' }),
    kind: z.enum(BLOCK_KINDS as [string, ...string[]]).optional(),
    reassign: z.string().nullable().optional().openapi({
      description: 'with requeue: give the task to this profile as the run is released',
    }),
    run_id: z.number().int().positive().optional().openapi({
      description:
        'the run meant: refused (409 conflict) when the task runs another one by now, so a stop sent to a host that answered late never ends a later attempt',
    }),
  })
  .strict()
  .openapi('StopBody');

/** A positive whole number in a path, such as a task or run id. */
export const idText = z
  .string()
  .regex(/^[1-9]\d{0,15}$/, { message: 'ids are whole numbers of at least 1, such as 12' })
  .refine((s) => Number.isSafeInteger(Number(s)), { message: 'is too large for an id' });

export const TaskIdParam = z.object({
  id: idText.openapi({ param: { name: 'id', in: 'path' }, example: '12' }),
});

/** Names of policy options to drop; an unknown name is refused, naming the known ones. */
export const ClearPolicy = z
  .array(
    z.enum(POLICY_KEYS as [string, ...string[]], {
      message: `unknown policy option; use one of ${POLICY_KEYS.join(', ')}`,
    }),
  )
  .max(POLICY_KEYS.length)
  .openapi({ description: 'policy options to drop from the task' });

/** Any JSON object answer (the shapes are described in docs/api.md). */
export const AnyJson = z.any();

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      request_id: z
        .string()
        .optional()
        .openapi({ description: 'on 500 answers: the id the serve log records the cause under' }),
    }),
  })
  .openapi('Error');
