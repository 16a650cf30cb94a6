import { Command } from 'commander';
import * as board from './commands/board.js';
import * as comment from './commands/comment.js';
import * as create from './commands/create.js';
import * as demo from './commands/demo.js';
import * as dispatch from './commands/dispatch.js';
import * as doctor from './commands/doctor.js';
import * as edit from './commands/edit.js';
import * as events from './commands/events.js';
import * as group from './commands/group.js';
import * as init from './commands/init.js';
import * as link from './commands/link.js';
import * as list from './commands/list.js';
import * as mcp from './commands/mcp.js';
import * as moves from './commands/moves.js';
import * as open from './commands/open.js';
import * as profile from './commands/profile.js';
import * as runs from './commands/runs.js';
import * as serve from './commands/serve.js';
import * as show from './commands/show.js';
import * as stats from './commands/stats.js';
import * as stop from './commands/stop.js';
import * as token from './commands/token.js';
import * as worker from './commands/worker.js';

/** The `warden` command line, every command registered. */
export function createProgram(version: string): Command {
  const program = new Command('warden')
    .description('a durable kanban board and dispatcher for long-running AI-agent workers')
    .version(version)
    .showSuggestionAfterError(true);
  for (const mod of [
    init,
    create,
    list,
    show,
    edit,
    link,
    comment,
    moves,
    runs,
    events,
    profile,
    board,
    group,
    stats,
    serve,
    dispatch,
    stop,
    doctor,
    token,
    worker,
    mcp,
    open,
    demo,
  ]) {
    mod.register(program);
  }
  return program;
}
