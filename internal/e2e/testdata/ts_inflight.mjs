// The official TypeScript SDK client, driving srt-mcp on a real server, for
// TestTypeScriptClientInFlight. Usage:
//   node ts_inflight.mjs SDK_DIR PROTOCOL_VERSION VIOLATION_PATH -- SRT_MCP_ARGV...
// It initializes (with PROTOCOL_VERSION), sends notifications between
// requests, lists the tools and waits for the answer, cancels a second
// listing, then calls create_entities, which makes the memory server write
// next to VIOLATION_PATH (outside allowWrite). It prints srt-mcp's stderr
// line about that path as "VIOLATION <line>".
const [sdk, version, violation, dashes, command, ...args] = process.argv.slice(2);
if (dashes !== '--') throw new Error('usage');
const { Client } = await import(sdk + '/dist/esm/client/index.js');
const { StdioClientTransport } = await import(sdk + '/dist/esm/client/stdio.js');

const transport = new StdioClientTransport({ command, args, env: process.env, stderr: 'pipe' });
let stderr = '';
let wake = () => {};
transport.stderr.on('data', d => { stderr += d; wake(); });
// The SDK always offers its latest protocol version; ask for another one.
const send = transport.send.bind(transport);
transport.send = async (msg, opts) => {
  if (msg.method === 'initialize') msg.params.protocolVersion = version;
  return send(msg, opts);
};
const client = new Client({ name: 'srt-mcp-e2e-ts', version: '1' }, { capabilities: { roots: { listChanged: true } } });
await client.connect(transport);
await client.sendRootsListChanged();
await client.ping();
const listing = client.listTools(undefined, { onprogress: () => {} });
await client.sendRootsListChanged();
const tools = await listing;
if (!tools.tools.some(t => t.name === 'create_entities')) throw new Error('no create_entities tool');
const ac = new AbortController();
const cancelled = client.listTools(undefined, { signal: ac.signal }).catch(() => 'cancelled');
ac.abort();
await cancelled;
await client.ping();
await client.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'a', entityType: 't', observations: ['o'] }] } });
// srt-mcp reports the violation when its supervisor sees it: wait for the
// line on its stderr (go test's timeout bounds this).
while (!stderr.split('\n').some(l => l.includes(violation))) {
  await new Promise(resolve => { wake = resolve; });
}
console.log('VIOLATION ' + stderr.split('\n').find(l => l.includes(violation)));
await client.close();
