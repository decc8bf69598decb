// Starts the local Salesforce org emulator (the Go command local/sforg) for
// Node tests: it builds the command once per test process, runs it on a free
// loopback port, reads the eight SALESFORCE_* settings it prints and offers
// the control plane under /__sforg/ as plain async functions.
//
//   const org = await startOrg({ args: ['-daily-limit', '100'] });
//   org.url                       // http://127.0.0.1:PORT
//   org.settings.SALESFORCE_USERNAME
//   await org.inject({ route: 'sobject-get', kind: 'status', status: 503, times: 1 });
//   await org.stop();             // SIGTERM; rejects unless the command exits 0
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

/** The repository root (two levels above this file). */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The eight settings the command prints, sorted as it prints them. */
export const settingNames = [
  'SALESFORCE_CLIENT_ID',
  'SALESFORCE_CLIENT_SECRET',
  'SALESFORCE_PASSWORD',
  'SALESFORCE_SECURITY_TOKEN',
  'SALESFORCE_SOAP_URL_LOGIN',
  'SALESFORCE_URL_LOGIN',
  'SALESFORCE_USERNAME',
  'SALESFORCE_VERSION',
];

let built; // the binary's path, built once per process

/** Builds local/sforg into a temporary folder, once per process; resolves with the binary's path. */
export function buildOrg() {
  built ??= (async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sforg-js-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const bin = path.join(dir, 'sforg');
    await promisify(execFile)('go', ['build', '-o', bin, './local/sforg'], { cwd: repoRoot });
    return bin;
  })();
  built.catch(() => (built = undefined)); // a failed build may be retried
  return built;
}

/**
 * Parses one KEY=VALUE line as the command prints it: the value bare,
 * single-quoted ('\'' for a quote inside) or double-quoted. Returns null for
 * any other line.
 */
export function parseSetting(line) {
  const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
  if (!m) return null;
  const [, key, raw] = m;
  let value = '';
  for (let i = 0; i < raw.length; ) {
    const c = raw[i];
    if (c === "'") {
      const end = raw.indexOf("'", i + 1);
      if (end < 0) return null;
      value += raw.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < raw.length && raw[i] !== '"') {
        if (raw[i] === '\\' && i + 1 < raw.length) i++;
        value += raw[i++];
      }
      if (i >= raw.length) return null;
      i++;
    } else if (c === '\\' && i + 1 < raw.length) {
      value += raw[i + 1];
      i += 2;
    } else {
      value += c;
      i++;
    }
  }
  return [key, value];
}

/**
 * Builds and starts the emulator on 127.0.0.1 with a free port; args are more
 * command flags (-seed FILE, -session-ttl 2h, -daily-limit N,
 * -jwt-public-key PEM, -sandbox). Resolves once all eight settings arrived, with:
 *   url        the org's base URL (also its login URL and instance URL)
 *   settings   {SALESFORCE_CLIENT_ID: ..., ...} as printed
 *   inject(fault), faults(), clear()     POST/GET/DELETE /__sforg/faults
 *   counters(), reset(), expireSessions(), seed(doc), setDailyLimit(n)
 *   output()   the command's stderr so far (one line per request)
 *   stop()     SIGTERM; resolves when the command exited 0, rejects otherwise
 */
export async function startOrg({ args = [], timeoutMs = 60_000 } = {}) {
  const bin = await buildOrg();
  const child = spawn(bin, ['-addr', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));

  const settings = {};
  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`sforg printed no settings within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      let pending = '';
      const done = (err) => {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        if (err) reject(err);
        else resolve();
      };
      const onData = (chunk) => {
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const kv = parseSetting(pending.slice(0, nl));
          pending = pending.slice(nl + 1);
          if (kv) settings[kv[0]] = kv[1];
        }
        if (settingNames.every((k) => k in settings)) done();
      };
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', onData);
      exited.then(({ code, signal }) => done(new Error(`sforg exited (${code ?? signal}) before printing its settings:\n${stderr}`)));
    });
  } catch (err) {
    child.kill('SIGKILL');
    await exited;
    throw err;
  }
  child.stdout.resume(); // nothing more is expected; never let the pipe fill

  const url = new URL(settings.SALESFORCE_URL_LOGIN).origin;
  const admin = async (method, route, body) => {
    const res = await fetch(`${url}/__sforg/${route}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} /__sforg/${route}: ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  let stopping;
  return {
    url,
    settings,
    /** Adds a fault, e.g. {route: 'query', kind: 'status', status: 503, html: true, times: 1}. */
    inject: (fault) => admin('POST', 'faults', fault),
    /** Lists the active faults. */
    faults: () => admin('GET', 'faults'),
    /** Removes every fault. */
    clear: () => admin('DELETE', 'faults'),
    /** Request, login and API-usage counters: {"requests.query": 3, "logins": 1, "api-usage": 9, ...}. */
    counters: () => admin('GET', 'counters'),
    /** Data back to the seed; faults, sessions and counters cleared. */
    reset: () => admin('POST', 'reset'),
    /** Ends every session: the next API call answers 401 INVALID_SESSION_ID. */
    expireSessions: () => admin('POST', 'sessions/expire'),
    /** Inserts {"Account":[{...}], ...}; resolves with the new ids per object. Reset replays it. */
    seed: (doc) => admin('POST', 'seed', doc),
    /** Sets the DailyApiRequests allocation. */
    setDailyLimit: (n) => admin('PUT', 'limit', { dailyLimit: n }),
    output: () => stderr,
    stop() {
      stopping ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
        const { code, signal } = await exited;
        if (code !== 0) throw new Error(`sforg exited with ${code ?? signal}, want 0:\n${stderr}`);
      })();
      return stopping;
    },
  };
}

/** Asserts that promise (or a jsforce thenable) rejects with an error named name; returns the error. */
export async function rejectsNamed(promise, name) {
  let caught;
  await assert.rejects(Promise.resolve(promise), (err) => {
    caught = err;
    return true;
  });
  assert.equal(caught.name, name, `error ${caught.name}: ${caught.message}`);
  return caught;
}
