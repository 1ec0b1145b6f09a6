// The npm etcd3 client suite (tests/Server.Tests/Processes/Etcd3SuiteTests.cs): KV, txn, watch streams and leases
// through the npm package etcd3 (grpc-js), an etcd v3 client written independently of etcd's Go client. It runs the
// same calls against CurpStore and against Debian's etcd and prints one JSON line that must be equal for both, so
// everything that varies between servers or runs is normalized: revisions are printed relative to the revision of the
// script's first write, keys without the script's prefix, lease ids as "LEASE", remaining TTLs as ranges.
// Usage: node etcd3-suite.js ENDPOINT[,ENDPOINT...] PREFIX. Exits non-zero on an unexpected error.
'use strict';

const { Etcd3, GRPCUnavailableError } = require('etcd3');

const [endpoints, prefix] = process.argv.slice(2);
const hosts = endpoints.split(',');
const WAIT_MS = 30000; // bound on anything that waits for the server (events, lease expiry)

let base = 0; // the revision of the script's first write; every printed revision is relative to it
const rel = (revision) => Number(revision) - base;
const strip = (key) => key.toString().slice(prefix.length);
const stripAll = (keys) => keys.map(strip);
const stripObject = (object) => Object.fromEntries(Object.entries(object).map(([key, value]) => [strip(key), value]));
const kvOf = (kv) => kv && {
  key: strip(kv.key), value: kv.value.toString(), create: rel(kv.create_revision), mod: rel(kv.mod_revision),
  version: Number(kv.version), lease: kv.lease === '0' ? '0' : 'LEASE',
};

async function waitFor(what, condition) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Lease keep-alive and time-to-live are answered by the leader; a member that cannot answer says Unavailable
// ("etcdserver: no leader"), as etcd does, and the caller tries again: etcd3 retries unary calls on another host
// itself, a one-shot keep-alive stream it leaves to us.
async function retryUnavailable(call) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      if (!(error instanceof GRPCUnavailableError) || attempt >= 20) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

function txnOf(response) {
  return {
    succeeded: response.succeeded,
    revision: rel(response.header.revision),
    responses: response.responses.map((r) => {
      if (r.response_put) {
        return { put: r.response_put.prev_kv ? r.response_put.prev_kv.value.toString() : null };
      }
      if (r.response_range) {
        return { range: r.response_range.kvs.map(kvOf), count: Number(r.response_range.count) };
      }
      return { deleted: Number(r.response_delete_range.deleted), prev: r.response_delete_range.prev_kvs.map(kvOf) };
    }),
  };
}

async function kv(client) {
  const p = prefix + 'kv/';
  const out = {};
  out.puts = [];
  for (const [key, value] of [['c', '3'], ['a', '1'], ['d', '4'], ['b', '2']]) {
    out.puts.push(rel((await client.put(p + key).value(value)).header.revision));
  }
  out.getA = await client.get(p + 'a').string();
  out.getAExec = (await client.get(p + 'a').exec()).kvs.map(kvOf);
  out.missing = await client.get(p + 'nothere').string();
  const previous = await client.put(p + 'a').value('11').getPrevious();
  out.previous = { value: previous.value.toString(), version: Number(previous.version), revision: rel(previous.header.revision) };
  out.afterOverwrite = (await client.get(p + 'a').exec()).kvs.map(kvOf);
  out.atPastRevision = await client.get(p + 'a').revision(String(base + out.puts[1])).string();
  out.all = stripObject(await client.getAll().prefix(p).strings());
  out.keys = stripAll(await client.getAll().prefix(p).keys());
  out.count = await client.getAll().prefix(p).count();
  out.limited = stripAll(await client.getAll().prefix(p).limit(2).keys());
  const limitedExec = await client.getAll().prefix(p).limit(2).exec();
  out.limitedExec = { kvs: limitedExec.kvs.map(kvOf), more: limitedExec.more, count: Number(limitedExec.count) };
  out.keyDescend = stripAll(await client.getAll().prefix(p).sort('Key', 'Descend').keys());
  out.valueAscend = stripAll(await client.getAll().prefix(p).sort('Value', 'Ascend').keys());
  out.modDescendLimit3 = stripAll(await client.getAll().prefix(p).sort('Mod', 'Descend').limit(3).keys());
  out.createAscend = stripAll(await client.getAll().prefix(p).sort('Create', 'Ascend').keys());
  out.versionDescend = (await client.getAll().prefix(p).sort('Version', 'Descend').limit(1).exec()).kvs.map(kvOf);
  out.minMod = stripAll(await client.getAll().prefix(p).minModRevision(String(base + out.puts[3])).keys());
  out.maxCreate = stripAll(await client.getAll().prefix(p).maxCreateRevision(String(base + out.puts[1])).keys());
  out.range = stripAll(await client.getAll().inRange({ start: p + 'b', end: p + 'd' }).keys());
  out.deleteB = (await client.delete().key(p + 'b').getPrevious()).map(kvOf);
  out.getB = await client.get(p + 'b').string();
  const nothing = await client.delete().key(p + 'nothere').exec();
  out.deleteNothing = { deleted: Number(nothing.deleted), revision: rel(nothing.header.revision) };
  const prefixDelete = await client.delete().prefix(p).getPrevious();
  out.deletePrefix = prefixDelete.map(kvOf);
  out.countAfter = await client.getAll().prefix(p).count();
  out.deletedStillAtPast = await client.get(p + 'b').revision(String(base + out.puts[3])).string();
  return out;
}

async function txn(client) {
  const p = prefix + 'txn/';
  const out = {};
  const lease = client.lease(60, { autoKeepAlive: false });
  const leaseId = await lease.grant();
  await client.put(p + 'x').value('v1');
  await client.put(p + 'y').value('y1');
  await lease.put(p + 'leased').value('l');
  const x = (await client.get(p + 'x').exec()).kvs[0];
  out.valueEqual = txnOf(await client.if(p + 'x', 'Value', '==', 'v1')
    .then(client.put(p + 'x').value('v2')).else(client.get(p + 'x')).commit());
  out.valueEqualAgain = txnOf(await client.if(p + 'x', 'Value', '==', 'v1')
    .then(client.put(p + 'x').value('v3')).else(client.get(p + 'x')).commit());
  out.valueGreater = txnOf(await client.if(p + 'x', 'Value', '>', 'v1').then(client.get(p + 'y')).commit());
  out.versionEqual2 = txnOf(await client.if(p + 'x', 'Version', '==', 2)
    .then(client.put(p + 'y').value('y2')).else(client.put(p + 'y').value('never')).commit());
  out.versionLess = txnOf(await client.if(p + 'x', 'Version', '<', 2)
    .then(client.delete().key(p + 'y')).else(client.getAll().prefix(p)).commit());
  out.createEqual = txnOf(await client.if(p + 'x', 'Create', '==', x.create_revision)
    .then(client.put(p + 'z').value('z1')).commit());
  out.missingCreateZero = txnOf(await client.if(p + 'missing', 'Create', '==', 0)
    .and(p + 'missing', 'Version', '==', 0).then(client.put(p + 'created').value('c')).commit());
  out.modEqualStale = txnOf(await client.if(p + 'x', 'Mod', '==', x.mod_revision)
    .then(client.put(p + 'x').value('lost')).else(client.get(p + 'x')).commit());
  out.modGreater = txnOf(await client.if(p + 'x', 'Mod', '>', x.mod_revision)
    .then(client.delete().key(p + 'y')).commit());
  out.modNotEqual = txnOf(await client.if(p + 'x', 'Mod', '!=', x.mod_revision).then(client.get(p + 'y')).commit());
  out.leaseEqual = txnOf(await client.if(p + 'leased', 'Lease', '==', leaseId)
    .then(client.put(p + 'leased').value('l2').ignoreLease()).else(client.get(p + 'leased')).commit());
  out.leaseAfterIgnore = (await client.get(p + 'leased').exec()).kvs.map(kvOf);
  out.leaseZero = txnOf(await client.if(p + 'x', 'Lease', '==', 0).and(p + 'x', 'Value', '!=', 'v1')
    .then(client.getAll().prefix(p).sort('Key', 'Ascend')).commit());
  out.oneCompareFails = txnOf(await client.if(p + 'x', 'Value', '==', 'v2').and(p + 'z', 'Version', '==', 5)
    .then(client.put(p + 'x').value('never')).else(client.put(p + 'x').value('v4'), client.get(p + 'x')).commit());
  out.final = stripObject(await client.getAll().prefix(p).strings());
  await lease.revoke();
  out.afterRevoke = stripAll(await client.getAll().prefix(p).keys());
  return out;
}

function recordEvents(watcher) {
  const events = [];
  watcher.on('put', (kv, previous) => events.push({ type: 'put', ...kvOf(kv), previous: previous ? previous.value.toString() : null }));
  watcher.on('delete', (kv, previous) => events.push({ type: 'delete', key: strip(kv.key), mod: rel(kv.mod_revision), previous: previous ? previous.value.toString() : null }));
  return events;
}

async function watch(client, writer) {
  const p = prefix + 'w/';
  const out = {};
  // Every watcher below shares the client's one watch stream.
  const all = await client.watch().prefix(p).withPreviousKV().create();
  const allEvents = recordEvents(all);
  const one = await client.watch().key(p + 'a').create();
  const oneEvents = recordEvents(one);
  const deletes = await client.watch().prefix(p).only('delete').withPreviousKV().create();
  const deleteEvents = recordEvents(deletes);
  const cancelled = await client.watch().prefix(p).create();
  const cancelledEvents = recordEvents(cancelled);
  out.distinctIds = new Set([all.id, one.id, deletes.id, cancelled.id]).size;

  const first = rel((await writer.put(p + 'a').value('1')).header.revision);
  await writer.put(p + 'b').value('2');
  await waitFor('two events on the watcher to cancel', () => cancelledEvents.length >= 2);
  await cancelled.cancel();
  await writer.put(p + 'a').value('3');
  await writer.delete().key(p + 'b');
  await writer.put(prefix + 'outside').value('x');
  await writer.if(p + 'a', 'Value', '==', '3').then(writer.put(p + 'c').value('4'), writer.delete().key(p + 'a')).commit();
  await writer.put(p + 'end').value('.');
  await waitFor('the end marker on the prefix watcher', () => allEvents.some((e) => e.key === 'w/end'));
  await waitFor('the delete watcher', () => deleteEvents.length >= 2);

  // A watcher from a past revision replays the history from there, then stays live.
  const past = await client.watch().prefix(p).startRevision(String(base + first + 1)).withPreviousKV().create();
  const pastEvents = recordEvents(past);
  await waitFor('the replay up to the end marker', () => pastEvents.some((e) => e.key === 'w/end'));
  await writer.put(p + 'after').value('5');
  await waitFor('a live event after the replay', () => pastEvents.some((e) => e.key === 'w/after') && allEvents.some((e) => e.key === 'w/after'));
  await Promise.all([all.cancel(), one.cancel(), deletes.cancel(), past.cancel()]);
  Object.assign(out, { all: allEvents, one: oneEvents, deletes: deleteEvents, cancelled: cancelledEvents, past: pastEvents });
  return out;
}

async function leases(client) {
  const p = prefix + 'lease/';
  const out = {};
  const lease = client.lease(30, { autoKeepAlive: false });
  const id = await lease.grant();
  await lease.put(p + 'k1').value('1');
  await lease.put(p + 'k2').value('2');
  out.attached = (await client.get(p + 'k1').exec()).kvs.map(kvOf);
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
  out.timeToLive = { granted: Number(ttl.grantedTTL), remainingInRange: Number(ttl.TTL) > 0 && Number(ttl.TTL) <= 30, keys: ttl.keys.map(strip).sort() };
  const kept = await retryUnavailable(() => lease.keepaliveOnce());
  out.keepAlive = { ttl: Number(kept.TTL), sameId: kept.ID === id };
  out.listed = (await client.leaseClient.leaseLeases()).leases.some((l) => l.ID === id);
  await lease.revoke();
  out.afterRevoke = stripAll(await client.getAll().prefix(p).keys());
  const gone = await client.leaseClient.leaseTimeToLive({ ID: id });
  out.timeToLiveAfterRevoke = Number(gone.TTL);
  try {
    await client.put(p + 'k3').value('3').lease(id);
    out.putWithRevoked = 'accepted';
  } catch (error) {
    out.putWithRevoked = `${error.constructor.name}: ${error.message}`;
  }

  // Expiry: a lease nobody keeps alive ends after its TTL, deleting its keys, and a watcher sees the delete.
  const short = client.lease(3, { autoKeepAlive: false });
  const shortId = await short.grant();
  const expiring = await short.put(p + 'expiring').value('e');
  // From the revision after the put: a watch from "now" on a member that has not applied the put yet would see it.
  const watcher = await client.watch().key(p + 'expiring').startRevision(String(Number(expiring.header.revision) + 1)).create();
  const expiryEvents = recordEvents(watcher);
  out.shortGranted = Number((await client.leaseClient.leaseTimeToLive({ ID: shortId })).grantedTTL);
  await waitFor('the lease to expire', async () => (await client.get(p + 'expiring').string()) === null);
  await waitFor('the expiry delete event', () => expiryEvents.length >= 1);
  await watcher.cancel();
  out.expiryEvents = expiryEvents.map((e) => ({ type: e.type, key: e.key }));
  out.expiredTimeToLive = Number((await client.leaseClient.leaseTimeToLive({ ID: shortId })).TTL);
  short.release();

  // Kept alive by the client: the key outlives twice the TTL.
  const kept3 = client.lease(3);
  await kept3.put(p + 'kept').value('k');
  await new Promise((resolve) => setTimeout(resolve, 7000));
  out.keptAliveKey = await client.get(p + 'kept').string();
  await kept3.revoke();
  out.keptAfterRevoke = await client.get(p + 'kept').string();
  return out;
}

async function main() {
  const client = new Etcd3({ hosts, dialTimeout: 5000 });
  const writer = new Etcd3({ hosts, dialTimeout: 5000 });
  try {
    base = Number((await client.put(prefix + 'start').value('0')).header.revision);
    const result = {};
    result.kv = await kv(client);
    result.txn = await txn(client);
    result.watch = await watch(client, writer);
    result.leases = await leases(client);
    console.log(JSON.stringify(result));
  } finally {
    client.close();
    writer.close();
  }
}

main().catch((error) => {
  console.error(error && error.stack ? error.stack : String(error));
  process.exit(1);
});
