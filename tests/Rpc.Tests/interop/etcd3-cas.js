// Compare-and-swap increments through the npm package etcd3 (tests/Server.Tests/Processes/Etcd3SuiteTests.cs): CLIENTS
// independent Etcd3 instances, client i connected to endpoint i mod (number of endpoints), each increment one counter
// COUNT times: read its value and mod revision, then txn "if mod_revision == r then put value+1", and read again on
// failure. Prints one JSON line: the final value, every successful increment as [value written, revision of the txn],
// and the number of failed attempts. Usage: node etcd3-cas.js ENDPOINT[,ENDPOINT...] KEY CLIENTS COUNT.
'use strict';

const { Etcd3 } = require('etcd3');

const [endpoints, key, clientsText, countText] = process.argv.slice(2);
const hosts = endpoints.split(',');
const clients = Number(clientsText);
const count = Number(countText);
const MAX_ATTEMPTS = 100 * clients * count; // a bound per client: with fair luck it needs about clients/2 per success

async function increment(client, writes) {
  let failures = 0;
  for (let done = 0; done < count;) {
    if (failures > MAX_ATTEMPTS) {
      throw new Error(`more than ${MAX_ATTEMPTS} failed compare-and-swaps`);
    }
    const read = await client.get(key).exec();
    const current = read.kvs.length === 0 ? { value: 0, mod: '0' } : { value: Number(read.kvs[0].value.toString()), mod: read.kvs[0].mod_revision };
    const response = await client.if(key, 'Mod', '==', current.mod).then(client.put(key).value(String(current.value + 1))).commit();
    if (response.succeeded) {
      writes.push([current.value + 1, Number(response.header.revision)]);
      done++;
    } else {
      failures++;
    }
  }
  return failures;
}

async function main() {
  const instances = Array.from({ length: clients }, (_, i) => new Etcd3({ hosts: hosts[i % hosts.length], dialTimeout: 5000 }));
  try {
    const writes = [];
    const failures = await Promise.all(instances.map((client) => increment(client, writes)));
    const final = Number(await instances[0].get(key).string());
    console.log(JSON.stringify({ final, writes, failures: failures.reduce((a, b) => a + b, 0) }));
  } finally {
    instances.forEach((client) => client.close());
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
