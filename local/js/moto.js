// Starts moto_server, a local AWS, for Node tests that need S3: on a free
// loopback port, with path-style buckets. Requests without a SigV4 signature
// land in moto's S3 handler, so the tests use plain fetch; the functions
// under test reach it with the AWS SDK through AWS_ENDPOINT_URL_S3.
//
//   const s3 = await startMoto();
//   await s3.createBucket('b');
//   await s3.put('b', 'in/a.csv', 'Name\nAcme\n');
//   const text = await s3.get('b', 'out/x.csv');   // null when there is none
//   s3.env   // AWS_ENDPOINT_URL_S3, region and static credentials for a function
//   await s3.stop();
import { execFileSync, spawn } from 'node:child_process';
import { createHash, createHmac } from 'node:crypto';
import { freePorts } from './lambda.js';

/** Returns whether moto_server is on PATH. */
export function motoInstalled() {
  try {
    execFileSync('sh', ['-c', 'command -v moto_server'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Starts moto_server; resolves once it answers HTTP. */
export async function startMoto({ timeoutMs = 60_000 } = {}) {
  const [port] = await freePorts(1);
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (c) => (output += c));
  child.stderr.on('data', (c) => (output += c));
  const exited = new Promise((resolve) => child.once('close', resolve));
  let running = true;
  exited.then(() => (running = false));
  const stop = async () => {
    if (running) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await exited;
  };

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!running) throw new Error(`moto_server exited during start-up:\n${output}`);
    try {
      await (await fetch(`${url}/`)).arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`moto_server did not answer:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  const object = (bucket, key) => `${url}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  const must = async (res, what) => {
    if (!res.ok) throw new Error(`${what}: ${res.status} ${await res.text()}`);
    return res;
  };
  // Objects the functions wrote are private to the account: read them with
  // a signed request, as the SDK does.
  const signedGet = (target) => fetch(target, { headers: sign('GET', new URL(target)) });
  return {
    url,
    env: {
      AWS_ENDPOINT_URL_S3: url,
      AWS_REGION: 'us-east-1',
      AWS_DEFAULT_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    },
    createBucket: async (bucket) => must(await fetch(`${url}/${bucket}`, { method: 'PUT' }), `create bucket ${bucket}`),
    put: async (bucket, key, body) => must(await fetch(object(bucket, key), { method: 'PUT', body }), `put s3://${bucket}/${key}`),
    async get(bucket, key) {
      const res = await signedGet(object(bucket, key));
      if (res.status === 404) return null;
      return (await must(res, `get s3://${bucket}/${key}`)).text();
    },
    output: () => output,
    stop,
  };
}

/**
 * Returns the headers of an AWS Signature Version 4 signed request for S3
 * with the static test credentials (an empty body's hash: GET only).
 */
function sign(method, url, now = new Date()) {
  const hash = (data) => createHash('sha256').update(data).digest('hex');
  const hmac = (key, data) => createHmac('sha256', key).update(data).digest();
  const amzDate = now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const payload = hash('');
  const headers = { host: url.host, 'x-amz-content-sha256': payload, 'x-amz-date': amzDate };
  const names = Object.keys(headers).sort();
  const query = [...url.searchParams].sort().map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const canonical = [method, url.pathname, query, ...names.map((n) => `${n}:${headers[n]}`), '', names.join(';'), payload].join('\n');
  const scope = `${day}/us-east-1/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, hash(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4test', day), 'us-east-1'), 's3'), 'aws4_request');
  const signature = createHmac('sha256', key).update(toSign).digest('hex');
  return {
    'x-amz-content-sha256': payload,
    'x-amz-date': amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=test/${scope}, SignedHeaders=${names.join(';')}, Signature=${signature}`,
  };
}
