import { z } from 'zod';

/** The fields `config.json` may hold; loaded only when a home has the file. */
export const configFileSchema = z
  .object({
    policy: z.record(z.string(), z.unknown()).optional(),
    serve: z
      .object({
        port: z.number().int().min(0).max(65535).optional(),
        bind: z.string().min(1).optional(),
        max_workers: z.number().int().min(1).optional(),
      })
      .strict()
      .optional(),
    /** Model prices over the built-in table: USD per million tokens (docs/llm-proxy.md). */
    llm_prices: z
      .record(
        z.string().min(1).max(200),
        z
          .object({
            input: z.number().min(0),
            output: z.number().min(0),
            cache_read: z.number().min(0).optional(),
            cache_write: z.number().min(0).optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

export type ConfigFile = z.output<typeof configFileSchema>;
