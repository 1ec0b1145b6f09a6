// Interop client for the Auth tests (tests/Server.Tests/Auth): the npm package etcd3 (grpc-js) logs in as a user,
// writes and reads a key it may, tries one it may not, and prints what happened as one JSON line; exits non-zero on an
// unexpected error.
'use strict';

const { Etcd3 } = require('etcd3');

async function main() {
  const [endpoint, user, password, allowed, denied] = process.argv.slice(2);
  const client = new Etcd3({ hosts: endpoint, dialTimeout: 5000, auth: { username: user, password } });
  try {
    await client.put(allowed).value('from etcd3');
    const value = await client.get(allowed).string();
    let refusal = null;
    try {
      await client.put(denied).value('x');
    } catch (error) {
      refusal = { name: error.constructor.name, message: error.message };
    }
    console.log(JSON.stringify({ value, refusal }));
  } finally {
    client.close();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
