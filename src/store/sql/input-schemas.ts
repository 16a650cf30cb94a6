import type { parseInput } from '../../core/validate.js';
import type { newTaskSchema, taskPatchSchema } from '../../core/task.js';
import type { llmSpecSchema, profilePatchSchema, profileSpecSchema } from '../../core/profile.js';

export interface InputSchemas {
  parseInput: typeof parseInput;
  newTask: typeof newTaskSchema;
  taskPatch: typeof taskPatchSchema;
  profileSpec: typeof profileSpecSchema;
  profilePatch: typeof profilePatchSchema;
  llmSpec: typeof llmSpecSchema;
}

/**
 * The input schemas of the writes, loaded on the first write rather than when the store
 * opens: zod and the schemas built with it cost more than everything else `warden list` does,
 * and a command that only reads never needs them. Node caches the modules, so only the first
 * write pays.
 */
export async function inputSchemas(): Promise<InputSchemas> {
  const [validate, task, profile] = await Promise.all([
    import('../../core/validate.js'),
    import('../../core/task.js'),
    import('../../core/profile.js'),
  ]);
  return {
    parseInput: validate.parseInput,
    newTask: task.newTaskSchema,
    taskPatch: task.taskPatchSchema,
    profileSpec: profile.profileSpecSchema,
    profilePatch: profile.profilePatchSchema,
    llmSpec: profile.llmSpecSchema,
  };
}
