// Interop client for InteropTests: the npm package etcd3 (a real etcd v3 client built on @grpc/grpc-js) puts a key
// and reads it back through our gRPC server. Prints one JSON line; exits non-zero on any error.
'use strict';

const { Etcd3 } = require('etcd3');

async function main() {
  const [endpoint, key, value] = process.argv.slice(2);
  const client = new Etcd3({ hosts: endpoint, dialTimeout: 5000 });
  try {
    await client.put(key).value(value);
    const read = await client.get(key).string();
    const missing = await client.get(key + '-missing').string();
    console.log(JSON.stringify({ read, missing }));
  } finally {
    client.close();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
