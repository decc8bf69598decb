// The jsforce peer of the benchmark (make bench, bench/cmd/bench): the
// CREATE, GET and QUERY sequence the connector's functions run, done with
// jsforce 3.10.16, the client a Node user would otherwise pick, against the
// same org emulator.
//
//   node bench-jsforce.js cold   one sequence in a new process: load jsforce,
//                                log in, create, get, query; prints one JSON line
//   node bench-jsforce.js warm   logs in once, then runs one sequence for every
//                                line read on stdin and prints one JSON line each
//
// The org comes from the environment: SALESFORCE_URL_LOGIN, SALESFORCE_CLIENT_ID,
// SALESFORCE_CLIENT_SECRET, SALESFORCE_USERNAME, SALESFORCE_PASSWORD,
// SALESFORCE_SECURITY_TOKEN, SALESFORCE_VERSION. The peer gets them directly:
// unlike the functions it reads no secret from Secrets Manager and runs
// outside any Lambda emulator, which favours it.
//
// Every line printed is {"ok":true,"ms":{"load":..,"login":..,"create":..,
// "get":..,"query":..,"total":..},"id":"001..."} or {"ok":false,"error":"..."};
// times are milliseconds from performance.now().
import { createInterface } from 'node:readline';

const started = performance.now();
const mode = process.argv[2];
if (mode !== 'cold' && mode !== 'warm') {
  console.error('usage: node bench-jsforce.js cold|warm');
  process.exit(2);
}

const env = process.env;
const loginUrl = new URL(env.SALESFORCE_URL_LOGIN).origin;
const version = (env.SALESFORCE_VERSION ?? '45.0').replace(/^v/, '');
let n = 0;

/** Logs in by the OAuth 2.0 username-password flow, as the connector does. */
async function login(jsforce) {
  const conn = new jsforce.Connection({
    loginUrl,
    oauth2: { loginUrl, clientId: env.SALESFORCE_CLIENT_ID, clientSecret: env.SALESFORCE_CLIENT_SECRET },
    version,
  });
  await conn.login(env.SALESFORCE_USERNAME, env.SALESFORCE_PASSWORD + (env.SALESFORCE_SECURITY_TOKEN ?? ''));
  return conn;
}

/** Creates an Account, reads it back whole, and queries it: the functions' sequence. */
async function sequence(conn, ms) {
  let t = performance.now();
  const created = await conn.sobject('Account').create({ Name: `jsforce benchmark ${process.pid}-${++n}`, Industry: 'Energy' });
  if (!created.success) throw new Error(`create: ${JSON.stringify(created)}`);
  ms.create = performance.now() - t;
  t = performance.now();
  const record = await conn.sobject('Account').retrieve(created.id);
  if (record.Id !== created.id) throw new Error(`get: got ${record.Id}, want ${created.id}`);
  ms.get = performance.now() - t;
  t = performance.now();
  const result = await conn.query(`SELECT Id, Name FROM Account WHERE Id = '${created.id}'`);
  if (result.totalSize !== 1) throw new Error(`query: got ${result.totalSize} records, want 1`);
  ms.query = performance.now() - t;
  return created.id;
}

function print(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

try {
  let t = performance.now();
  const { default: jsforce } = await import('jsforce');
  const load = performance.now() - t;
  t = performance.now();
  const conn = await login(jsforce);
  const loginMs = performance.now() - t;
  if (mode === 'cold') {
    const ms = { load, login: loginMs };
    const id = await sequence(conn, ms);
    ms.total = performance.now() - started;
    print({ ok: true, ms, id });
    process.exit(0);
  }
  print({ ok: true, ms: { load, login: loginMs } }); // ready
  for await (const _ of createInterface({ input: process.stdin })) {
    const ms = {};
    try {
      const s = performance.now();
      const id = await sequence(conn, ms);
      ms.total = performance.now() - s;
      print({ ok: true, ms, id });
    } catch (err) {
      print({ ok: false, error: `${err.name}: ${err.message}` });
    }
  }
} catch (err) {
  print({ ok: false, error: `${err.name}: ${err.message}` });
  process.exit(1);
}
