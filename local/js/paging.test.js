// Runs statemachine/query-paging.asl.json in a real Step Functions interpreter
// (aws-local-stepfunctions) whose FetchPage Task invokes the BUILT query
// function under the AWS Lambda Runtime Interface Emulator, against the org
// emulator (sforg.js) seeded with 10,000 Accounts. The loop must see every
// record exactly once, and no output and no state may pass what Step Functions
// allows (256 KB).
import './polyfill.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StateMachine } from 'aws-local-stepfunctions';
import { buildFunction, findEmulator, invoke, startEmulator } from './lambda.js';
import { definitionsDir, loadDefinition, settle } from './statemachine.js';
import { startOrg } from './sforg.js';

// Without the emulator the suite is skipped, except in CI, where a missing
// emulator must fail the build.
const missing = findEmulator() === null;
if (missing && process.env.CI) {
  throw new Error('CI is set but aws-lambda-rie is missing: run `make test` or .ci/run, which install it into ./bin');
}

const total = 10_000;
const stateLimit = 262_144; // Step Functions' payload limit, in bytes
const budget = 240_000; // the connector's default output budget

describe('query-paging workflow on the built query function', { skip: missing && 'aws-lambda-rie not installed (see LOCAL-TOOLCHAIN)' }, () => {
  let org;
  let dir;
  let emulator;
  const definition = loadDefinition(path.join(definitionsDir, 'query-paging.asl.json'));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'paging-js-'));
    const [started, bootstrap] = await Promise.all([startOrg(), buildFunction('./functions/query', dir)]);
    org = started;
    const accounts = Array.from({ length: total }, (_, i) => ({ Name: `Paging ${String(i).padStart(5, '0')}` }));
    const ids = await org.seed({ Account: accounts });
    assert.equal(ids.Account.length, total);
    emulator = await startEmulator({
      bootstrap,
      functionName: 'query',
      env: { ...org.settings, SALESFORCE_AUTH_FLOW: 'password', LOG_LEVEL: 'warn' },
    });
  });

  after(async () => {
    await emulator?.close();
    await org?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * Runs the workflow. Resolves with its output or error, the FetchPage
   * invocations, the records each page carried (by Id), the largest function
   * output and the largest state, both in bytes.
   */
  async function run(input) {
    const seen = new Map();
    let invocations = 0;
    let largestOutput = 0;
    const FetchPage = async (event) => {
      invocations++;
      const output = await invoke(emulator.url, event);
      largestOutput = Math.max(largestOutput, Buffer.byteLength(JSON.stringify(output)));
      if (output.salesforceStatus === '200') {
        for (const record of JSON.parse(output.salesforceResult).records) {
          seen.set(record.Id, (seen.get(record.Id) ?? 0) + 1);
        }
      }
      return output;
    };
    const sm = new StateMachine(definition);
    const execution = sm.run(input, { overrides: { taskResourceLocalHandlers: { FetchPage }, retryIntervalOverrides: { FetchPage: 0 } } });
    let largestState = 0;
    const ended = await settle(execution, (event) => {
      if (event.type === 'StateExited') {
        largestState = Math.max(largestState, Buffer.byteLength(JSON.stringify(event.state.output)));
      }
    });
    return { ...ended, invocations, seen, largestOutput, largestState };
  }

  function assertAllOnce(seen) {
    assert.equal(seen.size, total, `got ${seen.size} distinct records, want ${total}`);
    const repeated = [...seen].filter(([, n]) => n !== 1);
    assert.deepEqual(repeated, [], 'records seen more than once');
  }

  test('collects all 10,000 records, one Salesforce page per output', async () => {
    const { output, error, invocations, seen, largestOutput, largestState } = await run({ query: 'SELECT Id, Name FROM Account', pageSize: 1000 });
    assert.equal(error, undefined, error && `${error.name}: ${error.message}`);
    assert.deepEqual(output, { records: total, pages: 10, totalSize: total });
    assert.equal(invocations, 10);
    assertAllOnce(seen);
    assert.ok(largestOutput <= budget, `largest output ${largestOutput} bytes, over the ${budget}-byte budget`);
    assert.ok(largestState <= stateLimit, `largest state ${largestState} bytes, over Step Functions' ${stateLimit}`);
  });

  test('collects all 10,000 records when 2,000-record pages do not fit and are cut', async () => {
    const { output, error, invocations, seen, largestOutput, largestState } = await run({ query: 'SELECT Id, Name FROM Account ORDER BY Name', pageSize: 2000 });
    assert.equal(error, undefined, error && `${error.name}: ${error.message}`);
    assert.equal(output.records, total);
    assert.equal(output.totalSize, total);
    assert.equal(output.pages, invocations);
    assert.ok(invocations > 5, `got ${invocations} invocations, want more than five: a 2,000-record page does not fit the budget`);
    assertAllOnce(seen);
    assert.ok(largestOutput <= budget, `largest output ${largestOutput} bytes, over the ${budget}-byte budget`);
    assert.ok(largestOutput > budget * 0.9, `largest output ${largestOutput} bytes, want the outputs filled close to the budget`);
    assert.ok(largestState <= stateLimit, `largest state ${largestState} bytes, over Step Functions' ${stateLimit}`);
  });

  test('a query Salesforce refuses fails with its error array', async () => {
    const { error, invocations } = await run({ query: 'SELECT Nme FROM Account', pageSize: 1000 });
    assert.equal(error?.name, 'QUERY_NOT_ACCEPTED');
    assert.equal(JSON.parse(error.message)[0].errorCode, 'INVALID_FIELD');
    assert.equal(invocations, 1);
  });

  test('a bad pageSize is the connector\'s INVALID_INPUT, not retried', async () => {
    const { error, invocations } = await run({ query: 'SELECT Id FROM Account', pageSize: 100 });
    assert.equal(error?.name, 'INVALID_INPUT');
    assert.match(error.message, /pageSize must be a whole number from 200 to 2000/);
    assert.equal(invocations, 1);
  });
});
