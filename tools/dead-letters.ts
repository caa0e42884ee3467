// `npm run dead-letters -- list` / `npm run dead-letters -- replay <queue>`: the admin API's dead
// letters from the command line (ADMIN_TOKEN and GATEWAY_URL as for the gateway).
async function main(): Promise<void> {
  const [command, queue] = process.argv.slice(2);
  const gateway = process.env.GATEWAY_URL ?? `http://127.0.0.1:${process.env.GATEWAY_PORT ?? 8080}`;
  const headers = { authorization: `Bearer ${process.env.ADMIN_TOKEN ?? 'oms-local-admin'}` };
  let response: Response;
  if (command === 'list') {
    response = await fetch(`${gateway}/v1/admin/dead-letters`, { headers });
  } else if (command === 'replay' && queue) {
    response = await fetch(`${gateway}/v1/admin/dead-letters/${encodeURIComponent(queue)}/replay`, {
      method: 'POST',
      headers,
    });
  } else {
    console.error('usage: npm run dead-letters -- list | replay <queue>');
    process.exit(2);
  }
  console.log(JSON.stringify(await response.json(), null, 2));
  if (!response.ok) process.exit(1);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
