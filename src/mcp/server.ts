import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createClient } from '../sdk/client.js';
import { registerOrchestratorTools } from './orchestrator-tools.js';
import { registerWorkerTools } from './worker-tools.js';
import type { WorkerTarget } from './worker-tools.js';

/** Whom the MCP server acts for: the worker of one run, or an orchestrator with an admin token. */
export type McpRole =
  { kind: 'worker'; target: WorkerTarget } | { kind: 'orchestrator'; url: string; token: string };

/** An MCP server with the tools of its role. */
export function createMcpServer(role: McpRole, version: string): McpServer {
  const server = new McpServer({ name: 'warden', version });
  if (role.kind === 'worker') registerWorkerTools(server, role.target);
  else registerOrchestratorTools(server, createClient({ url: role.url, token: role.token }));
  return server;
}

/**
 * Serves MCP over stdio. Returns once connected; standard input keeps the process alive, and
 * the process ends when the client closes it.
 */
export async function serveStdio(role: McpRole, version: string): Promise<void> {
  const server = createMcpServer(role, version);
  await server.connect(new StdioServerTransport());
  process.stdin.once('end', () => void server.close());
}
