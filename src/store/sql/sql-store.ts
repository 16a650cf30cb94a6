import type { Actor } from '../../core/actor.js';
import type { Clock } from '../../core/clock.js';
import type { WardenEvent } from '../../core/events.js';
import type { TaskId } from '../../core/glossary.js';
import type { Profile, ProfilePatch, ProfileSpec } from '../../core/profile.js';
import type { Run } from '../../core/run.js';
import type { BoardStats, Comment, NewTask, Task, TaskFilter, TaskPatch } from '../../core/task.js';
import type { Board, EventFilter, Store, TaskMove, TokenInfo, TokenKind } from '../store.js';
import * as boards from './boards.js';
import type { SqlDb, SqlDriver } from './driver.js';
import * as events from './events.js';
import * as profiles from './profiles.js';
import { toRun } from './rows.js';
import type { RunRow } from './rows.js';
import * as moves from './task-moves.js';
import * as tasks from './tasks.js';

/**
 * The store on a SQL database. The domain logic is written once here; a driver supplies the
 * dialect (SQLite or PostgreSQL), its transactions and its retries.
 */
export class SqlStore implements Store {
  constructor(
    protected readonly driver: SqlDriver,
    protected readonly clock: Clock,
  ) {}

  get dialect(): string {
    return this.driver.dialect;
  }

  /** Runs `fn` in one write transaction with the time it happens at. */
  protected write<T>(fn: (db: SqlDb, now: number) => Promise<T>): Promise<T> {
    return this.driver.tx((db) => fn(db, this.clock.now()));
  }

  async schemaVersion(): Promise<number> {
    const row = await this.driver.get<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'schema_version'",
    );
    return Number(row?.value ?? 0);
  }

  close(): Promise<void> {
    return this.driver.close();
  }

  addBoard(name: string, actor: Actor): Promise<Board> {
    return this.write((db, now) => boards.addBoard(db, now, name, actor));
  }

  listBoards(): Promise<Board[]> {
    return boards.listBoards(this.driver);
  }

  getBoard(name: string): Promise<Board> {
    return boards.getBoard(this.driver, name);
  }

  createTask(input: NewTask, actor: Actor): Promise<Task> {
    return this.write((db, now) => tasks.createTask(db, now, input, actor));
  }

  getTask(id: TaskId): Promise<Task> {
    return this.driver.read((db) => tasks.getTask(db, id));
  }

  listTasks(filter: TaskFilter): Promise<Task[]> {
    return this.driver.read((db) => tasks.listTasks(db, filter));
  }

  editTask(id: TaskId, patch: TaskPatch, actor: Actor): Promise<Task> {
    return this.write((db, now) => tasks.editTask(db, now, id, patch, actor));
  }

  linkTasks(parent: TaskId, child: TaskId, actor: Actor): Promise<Task> {
    return this.write((db, now) => moves.linkTasks(db, now, parent, child, actor));
  }

  moveTask(id: TaskId, move: TaskMove, actor: Actor): Promise<Task> {
    return this.write((db, now) => moves.moveTask(db, now, id, move, actor));
  }

  addComment(id: TaskId, body: string, actor: Actor): Promise<Comment> {
    return this.write((db, now) => tasks.addComment(db, now, id, body, actor));
  }

  listComments(id: TaskId): Promise<Comment[]> {
    return tasks.listComments(this.driver, id);
  }

  async listRuns(taskId: TaskId): Promise<Run[]> {
    await tasks.taskRow(this.driver, taskId);
    const rows = await this.driver.all<RunRow>(
      'SELECT * FROM runs WHERE task_id = ? ORDER BY attempt',
      [taskId],
    );
    return rows.map(toRun);
  }

  listEvents(filter: EventFilter): Promise<WardenEvent[]> {
    return events.listEvents(this.driver, filter);
  }

  addProfile(name: string, spec: ProfileSpec, actor: Actor): Promise<Profile> {
    return this.write((db, now) => profiles.addProfile(db, now, name, spec, actor));
  }

  editProfile(name: string, patch: ProfilePatch, actor: Actor): Promise<Profile> {
    return this.write((db, now) => profiles.editProfile(db, now, name, patch, actor));
  }

  getProfile(name: string): Promise<Profile> {
    return profiles.getProfile(this.driver, name);
  }

  listProfiles(): Promise<Profile[]> {
    return profiles.listProfiles(this.driver);
  }

  removeProfile(name: string, actor: Actor): Promise<void> {
    return this.write((db, now) => profiles.removeProfile(db, now, name, actor));
  }

  setProfilePaused(
    name: string,
    paused: boolean,
    reason: string | null,
    actor: Actor,
  ): Promise<Profile> {
    return this.write((db, now) => profiles.setProfilePaused(db, now, name, paused, reason, actor));
  }

  addToken(
    token: { name: string; kind: TokenKind; hash: string; profiles?: string[] },
    actor: Actor,
  ): Promise<TokenInfo> {
    return this.write((db, now) => boards.addToken(db, now, token, actor));
  }

  findToken(hash: string): Promise<TokenInfo | null> {
    return boards.findToken(this.driver, hash);
  }

  boardStats(board: string): Promise<BoardStats> {
    return this.driver.read((db) => boards.boardStats(db, board));
  }
}
