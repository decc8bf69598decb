// Runs statemachine/bulk-import.asl.json and bulk-export.asl.json in a real
// Step Functions interpreter (aws-local-stepfunctions) whose Task states invoke
// the BUILT bulk functions under the Lambda Runtime Interface Emulator, against
// the org emulator (sforg.js, with -bulk-manual) and S3 in moto (moto.js).
// The org processes a closed job only when the workflow polls it (each poll
// first processes 3,000 records), so the Wait/poll loop really goes round,
// and no test waits on a clock.
//
// The interpreter cannot read S3 for a Distributed Map's ItemReader (see
// LOCAL-TOOLCHAIN.md): the export's ProcessParts state is replaced by a Pass,
// and the test runs the Map's ItemProcessor on its own with the batches the
// ItemReader and ItemBatcher would make from the manifest the export wrote.
import './polyfill.js';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { StateMachine } from 'aws-local-stepfunctions';
import { buildFunctions, findEmulator, invoke, startEmulator } from './lambda.js';
import { motoInstalled, startMoto } from './moto.js';
import { definitionsDir, loadDefinition, settle } from './statemachine.js';
import { startOrg } from './sforg.js';

const missing = findEmulator() === null ? 'aws-lambda-rie not installed (see LOCAL-TOOLCHAIN)' : !motoInstalled() ? 'moto_server not installed' : false;
if (missing && process.env.CI) {
  throw new Error(`CI is set but ${missing}: run \`make test\` or .ci/run`);
}

const bucket = 'sfconnect-bulk-workflow';
const total = 20_000;
const functionNames = ['bulk-ingest-start', 'bulk-job-status', 'bulk-ingest-finish', 'bulk-query-start', 'bulk-query-finish'];
/** Task state -> function, per workflow (template.yaml's DefinitionSubstitutions). */
const importTasks = { StartJob: 'bulk-ingest-start', CheckJob: 'bulk-job-status', FinishJob: 'bulk-ingest-finish' };
const exportTasks = { StartQuery: 'bulk-query-start', CheckQuery: 'bulk-job-status', WriteParts: 'bulk-query-finish' };

/** Splits a CSV text into rows of values (quoted values, no line breaks inside). */
function csvRows(text) {
  return text.split('\n').filter((line) => line !== '').map((line) => {
    const values = [];
    for (let i = 0; i <= line.length;) {
      if (line[i] === '"') {
        let v = '';
        for (i++; i < line.length; i++) {
          if (line[i] === '"' && line[i + 1] === '"') { v += '"'; i++; } else if (line[i] === '"') break; else v += line[i];
        }
        values.push(v);
        i += 2;
      } else {
        const end = line.indexOf(',', i);
        values.push(line.slice(i, end < 0 ? line.length : end));
        i = end < 0 ? line.length + 1 : end + 1;
      }
    }
    return values;
  });
}

describe('bulk workflows on the built functions', { skip: missing }, () => {
  let org;
  let s3;
  let dir;
  const emulators = {};
  const destinations = {
    BulkImportDestination: `s3://${bucket}/bulk/import/`,
    BulkExportDestination: `s3://${bucket}/bulk/export/`,
  };
  const importDefinition = loadDefinition(path.join(definitionsDir, 'bulk-import.asl.json'), destinations);
  const exportDefinition = loadDefinition(path.join(definitionsDir, 'bulk-export.asl.json'), destinations);

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'bulk-workflow-js-'));
    let bootstraps;
    [org, s3, bootstraps] = await Promise.all([startOrg({ args: ['-bulk-manual'] }), startMoto(), buildFunctions(functionNames, dir)]);
    await s3.createBucket(bucket);
    const env = {
      ...org.settings,
      ...s3.env,
      SALESFORCE_AUTH_FLOW: 'password',
      SALESFORCE_RETRY_BASE_DELAY: '1ms',
      SALESFORCE_RETRY_MAX_DELAY: '5ms',
      LOG_LEVEL: 'warn',
    };
    await Promise.all(functionNames.map(async (name) => {
      emulators[name] = await startEmulator({ bootstrap: bootstraps[name], functionName: name, env, timeoutSeconds: 120 });
    }));
  });

  after(async () => {
    await Promise.all(Object.values(emulators).map((e) => e.close()));
    await s3?.stop();
    await org?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Processes up to n records of the org's closed jobs, as its background worker would. */
  async function process(n) {
    const res = await fetch(`${org.url}/__sforg/bulk/process`, { method: 'POST', body: JSON.stringify({ records: n }) });
    assert.equal(res.status, 200, await res.text());
  }

  /**
   * Runs a workflow with its Task states routed to the emulators; a poll
   * (CheckJob, CheckQuery) first lets the org process 3,000 records. Resolves
   * with the output or error, the calls per Task and the states entered.
   */
  async function run(definition, tasks, input, name) {
    const calls = Object.fromEntries(Object.keys(tasks).map((t) => [t, 0]));
    const handlers = Object.fromEntries(Object.entries(tasks).map(([task, fn]) => [task, async (event) => {
      calls[task]++;
      if (task.startsWith('Check')) await process(3000);
      return invoke(emulators[fn].url, event);
    }]));
    const zero = (names) => Object.fromEntries(names.map((n) => [n, 0]));
    const sm = new StateMachine(definition);
    const execution = sm.run(input, {
      overrides: {
        taskResourceLocalHandlers: handlers,
        retryIntervalOverrides: zero(Object.keys(tasks)),
        waitTimeOverrides: zero(['WaitForJob', 'WaitForQuery']),
      },
      context: { Execution: { Name: name } },
    });
    const entered = [];
    const ended = await settle(execution, (event) => {
      if (event.type === 'StateEntered') entered.push(event.state.name);
    });
    return { calls, entered, ...ended };
  }

  test('imports 20,000 rows in several jobs and saves every row\'s result', async () => {
    let csv = 'Name,AccountNumber\n';
    for (let i = 1; i <= total; i++) csv += `Bulk Workflow ${String(i).padStart(5, '0')},BW-${i}\n`;
    await s3.put(bucket, 'import/accounts.csv', csv);
    const { calls, entered, output, error } = await run(importDefinition, importTasks, {
      SObjectName: 'Account', operation: 'insert', source: `s3://${bucket}/import/accounts.csv`, maxBytesPerJob: 150_000,
    }, 'import-20000');
    assert.equal(error, undefined, error && `${error.name}: ${error.message}`);
    const parts = output.totals.parts;
    assert.ok(parts >= 4, `got ${parts} parts, want the 570 KB cut into at least 4 jobs of 150,000 bytes`);
    assert.deepEqual(output.totals, { parts, records: total, successful: total, failed: 0, unprocessed: 0 });
    assert.equal(calls.StartJob, parts);
    assert.equal(calls.FinishJob, parts);
    assert.ok(calls.CheckJob > parts, `got ${calls.CheckJob} polls for ${parts} jobs, want the loop to go round`);
    assert.ok(entered.includes('NextPart') && entered.includes('WaitForJob'));
    assert.equal(output.manifest, `s3://${bucket}/bulk/import/import-20000/manifest.json`);
    assert.equal(output.results.length, parts);

    // Every row has its successful result, with the id Salesforce gave it.
    const ids = new Set();
    for (const r of output.results) {
      const [header, ...rows] = csvRows(await s3.get(bucket, r.successful.replace(`s3://${bucket}/`, '')));
      assert.deepEqual(header.slice(0, 2), ['sf__Id', 'sf__Created']);
      for (const row of rows) ids.add(row[0]);
    }
    assert.equal(ids.size, total);
    const manifest = JSON.parse(await s3.get(bucket, 'bulk/import/import-20000/manifest.json'));
    assert.equal(manifest.parts.length, parts);
    assert.equal(manifest.parts.reduce((n, p) => n + p.records, 0), total);
  });

  test('exports them in parts and hands every part to the Distributed Map\'s child workflow', async () => {
    const definition = structuredClone(exportDefinition);
    const processParts = definition.States.ProcessParts;
    definition.States.ProcessParts = { Type: 'Pass', ResultPath: null, Next: processParts.Next };
    const { calls, output, error } = await run(definition, exportTasks, {
      salesforceQuery: "SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk Workflow%'",
    }, 'export-20000');
    assert.equal(error, undefined, error && `${error.name}: ${error.message}`);
    assert.equal(output.records, total);
    assert.equal(output.parts, 2); // 10,000 records a part: two result sets
    assert.equal(output.partKeys.length, 2);
    assert.ok(calls.CheckQuery >= 2, `got ${calls.CheckQuery} polls, want the loop to go round`);

    // What ItemReader (InputType JSON) and ItemBatcher make of the manifest.
    const items = JSON.parse(await s3.get(output.bucket, output.manifestKey));
    assert.deepEqual(items.map((i) => i.key), output.partKeys);
    const { MaxItemsPerBatch, BatchInput } = processParts.ItemBatcher;
    const batches = [];
    for (let i = 0; i < items.length; i += MaxItemsPerBatch) batches.push({ Items: items.slice(i, i + MaxItemsPerBatch), BatchInput });

    const seen = new Map();
    const child = new StateMachine({ StartAt: processParts.ItemProcessor.StartAt, States: processParts.ItemProcessor.States });
    const ProcessBatch = async (batch) => {
      assert.deepEqual(batch.BatchInput, { format: 'CSV', header: true });
      let records = 0;
      for (const item of batch.Items) {
        const [header, ...rows] = csvRows(await s3.get(item.bucket, item.key));
        assert.deepEqual(header, ['Id', 'Name']);
        assert.equal(rows.length, item.records);
        for (const [id] of rows) seen.set(id, (seen.get(id) ?? 0) + 1);
        records += rows.length;
      }
      return { parts: batch.Items.length, records };
    };
    for (const batch of batches) {
      const result = await child.run(batch, { overrides: { taskResourceLocalHandlers: { ProcessBatch } } }).result;
      assert.equal(result.parts, batch.Items.length);
    }
    assert.equal(seen.size, total);
    assert.deepEqual([...seen].filter(([, n]) => n !== 1), []);
  });

  test('a malformed CSV is INVALID_INPUT, and no job is made', async () => {
    await s3.put(bucket, 'import/malformed.csv', 'Name,AccountNumber\nAc"me,1\n');
    const before = (await org.counters())['requests.bulk-ingest-create'] ?? 0;
    const { calls, error } = await run(importDefinition, importTasks, {
      SObjectName: 'Account', operation: 'insert', source: `s3://${bucket}/import/malformed.csv`,
    }, 'import-malformed');
    assert.equal(error?.name, 'INVALID_INPUT');
    assert.match(error.message, /not valid CSV/);
    assert.equal(calls.StartJob, 1); // not retried: the input stays bad
    assert.equal((await org.counters())['requests.bulk-ingest-create'] ?? 0, before);
  });

  for (const [name, source, pattern] of [
    ['a missing object', `s3://${bucket}/import/missing.csv`, /no such object/],
    ['a bucket that does not exist', 's3://sfconnect-no-such-bucket/import/a.csv', /bucket does not exist/],
  ]) {
    test(`${name} is INVALID_INPUT`, async () => {
      const { error } = await run(importDefinition, importTasks, { SObjectName: 'Account', operation: 'insert', source }, `import-${name.replaceAll(' ', '-')}`);
      assert.equal(error?.name, 'INVALID_INPUT');
      assert.match(error.message, pattern);
    });
  }

  test('an object Salesforce does not know fails with its refusal', async () => {
    await s3.put(bucket, 'import/one.csv', 'Name\nAcme\n');
    const { error } = await run(importDefinition, importTasks, {
      SObjectName: 'Nope__c', operation: 'insert', source: `s3://${bucket}/import/one.csv`,
    }, 'import-unknown-object');
    assert.equal(error?.name, 'BULK_NOT_ACCEPTED');
    assert.equal(JSON.parse(error.message)[0].errorCode, 'INVALIDENTITY');
  });

  test('a query Bulk API 2.0 does not run fails with Salesforce\'s refusal', async () => {
    const { error, calls } = await run(exportDefinition, exportTasks, { salesforceQuery: 'SELECT COUNT() FROM Account' }, 'export-refused');
    assert.equal(error?.name, 'BULK_NOT_ACCEPTED');
    assert.equal(JSON.parse(error.message)[0].errorCode, 'FEATURENOTENABLED');
    assert.equal(calls.CheckQuery, 0);
  });
});
