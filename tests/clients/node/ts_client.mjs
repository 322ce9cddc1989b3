// Drives the server with the official TypeScript SDK client and prints what it saw as JSON.
// Usage: node ts_client.mjs <mcp-url>
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const transport = new StreamableHTTPClientTransport(url);
const client = new Client({ name: "cnpg-mcp-ts-test", version: "1.0.0" });
await client.connect(transport);

const tools = await client.listTools();
const ok = await client.callTool({ name: "numbers_add", arguments: { a: 2, b: 40 } });
const failed = await client.callTool({ name: "cluster_fail", arguments: { name: "pg-main" } });
let unknown = null;
try {
  await client.callTool({ name: "no_such_tool", arguments: {} });
} catch (error) {
  unknown = { code: error.code, message: error.message };
}
await client.ping();

console.log(
  JSON.stringify({
    protocolVersion: transport.protocolVersion,
    sessionId: transport.sessionId ?? null,
    server: client.getServerVersion(),
    tools: tools.tools.map((tool) => tool.name),
    annotations: Object.fromEntries(tools.tools.map((tool) => [tool.name, tool.annotations])),
    ok,
    failed,
    unknown,
  }),
);
await client.close();
