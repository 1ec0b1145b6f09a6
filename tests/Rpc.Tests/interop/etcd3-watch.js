// Interop client for the Watch tests (tests/Server.Tests/Watch): the npm package etcd3 (grpc-js) watches a prefix,
// writes under it once the watch is connected, and prints the events it saw as one JSON line; exits non-zero on error.
'use strict';

const { Etcd3 } = require('etcd3');

async function main() {
  const [endpoint, prefix] = process.argv.slice(2);
  const client = new Etcd3({ hosts: endpoint, dialTimeout: 5000 });
  const events = [];
  try {
    const watcher = await client.watch().prefix(prefix).withPreviousKV().create();
    const done = new Promise((resolve, reject) => {
      const record = (type) => (kv, previous) => {
        events.push({ type, key: kv.key.toString(), value: kv.value.toString(), modRevision: Number(kv.mod_revision),
          previous: previous ? previous.value.toString() : null });
        if (events.length === 4) {
          resolve();
        }
      };
      watcher.on('put', record('put'));
      watcher.on('delete', record('delete'));
      watcher.on('error', reject);
      setTimeout(() => reject(new Error(`timed out with ${events.length} events`)), 30000).unref();
    });
    await client.put(prefix + 'a').value('1');
    await client.put(prefix + 'b').value('2');
    await client.put(prefix + 'a').value('3');
    await client.delete().key(prefix + 'b');
    await done;
    await watcher.cancel();
    console.log(JSON.stringify({ events }));
  } finally {
    client.close();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
