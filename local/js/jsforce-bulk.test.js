// Proves the org's Bulk API 2.0 (ingest and query jobs) against jsforce
// 3.10.16's bulk2 API, the real client flow: create, upload, close, poll, read
// the three result sets; create a query job, poll, follow Sforce-Locator. The
// emulator is steered only through its command flags and /__sforg/ URLs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jsforce from 'jsforce';
import { startOrg, rejectsNamed } from './sforg.js';

const version = '58.0';

/** Logs in to an org by the OAuth 2.0 username-password flow. */
async function connect(org) {
  const s = org.settings;
  const conn = new jsforce.Connection({
    loginUrl: org.url,
    oauth2: { loginUrl: org.url, clientId: s.SALESFORCE_CLIENT_ID, clientSecret: s.SALESFORCE_CLIENT_SECRET },
    version,
  });
  await conn.login(s.SALESFORCE_USERNAME, s.SALESFORCE_PASSWORD + s.SALESFORCE_SECURITY_TOKEN);
  conn.bulk2.pollInterval = 20; // the org processes a closed job at once
  conn.bulk2.pollTimeout = 60_000;
  return conn;
}

/** Collects the records of a jsforce record stream. */
function collect(stream) {
  return new Promise((resolve, reject) => {
    const records = [];
    stream.on('record', (r) => records.push(r));
    stream.on('end', () => resolve(records));
    stream.on('error', reject);
  });
}

/** POST /__sforg/bulk/process: steps n records, or everything without n. */
async function processBulk(org, records) {
  const res = await fetch(`${org.url}/__sforg/bulk/process`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: records === undefined ? '' : JSON.stringify({ records }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res.json();
}

describe('jsforce bulk2 against the local org', () => {
  let org;
  let conn;

  before(async () => {
    org = await startOrg();
    conn = await connect(org);
  });

  after(async () => {
    await org?.stop();
  });

  test('loadAndWaitForResults: insert with a failing row', async () => {
    const input = [];
    for (let i = 0; i < 300; i++) input.push({ Name: `Bulk ${i}`, NumberOfEmployees: i, Description: `row ${i}` });
    input.push({ Name: '', NumberOfEmployees: 1, Description: 'no name' });
    const before = await org.counters();
    const res = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input });
    assert.equal(res.successfulResults.length, 300);
    assert.equal(res.failedResults.length, 1);
    assert.equal(res.unprocessedRecords.length, 0);
    const first = res.successfulResults.find((r) => r.Name === 'Bulk 0');
    assert.match(first.sf__Id, /^001[0-9A-Za-z]{15}$/);
    assert.equal(first.sf__Created, 'true');
    assert.equal(first.Description, 'row 0');
    assert.match(res.failedResults[0].sf__Error, /^REQUIRED_FIELD_MISSING:Required fields are missing: \[Name\]:Name --$/);
    assert.equal(res.failedResults[0].Description, 'no name');
    const after = await org.counters();
    // create, upload, close, at least one poll, and three result sets
    assert.ok(after['api-calls.bulk'] - before['api-calls.bulk'] >= 7);
    assert.equal(after['requests.bulk-ingest-upload'] - (before['requests.bulk-ingest-upload'] ?? 0), 1);
    const count = await conn.query("SELECT COUNT() FROM Account WHERE Name LIKE 'Bulk %'");
    assert.equal(count.totalSize, 300);
  });

  test('update (null through #N/A), upsert by Id and delete', async () => {
    const { records } = await conn.query("SELECT Id, Name FROM Account WHERE Name LIKE 'Bulk 1%' ORDER BY Name");
    assert.ok(records.length > 10);
    const updates = records.map((r) => ({ Id: r.Id, Name: `${r.Name} updated`, Description: null }));
    const up = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'update', input: updates });
    assert.equal(up.successfulResults.length, records.length);
    assert.ok(up.successfulResults.every((r) => r.sf__Created === 'false'));
    const check = await conn.sobject('Account').retrieve(records[0].Id);
    assert.equal(check.Name, `${records[0].Name} updated`);
    assert.equal(check.Description, null);

    const upserts = [{ Id: records[0].Id, Name: 'Upserted' }];
    const ups = await conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'upsert', externalIdFieldName: 'Id', input: upserts });
    assert.deepEqual(ups.successfulResults.map((r) => [r.sf__Id, r.sf__Created]), [[records[0].Id, 'false']]);

    const del = await conn.bulk2.loadAndWaitForResults({
      object: 'Account',
      operation: 'delete',
      input: [...records.slice(0, 3).map((r) => ({ Id: r.Id })), { Id: records[0].Id }],
    });
    assert.equal(del.successfulResults.length, 3);
    assert.equal(del.failedResults.length, 1);
    assert.match(del.failedResults[0].sf__Error, /^ENTITY_IS_DELETED:/);
  });

  test('bulk2.query reads parents and every row', async () => {
    const stream = await conn.bulk2.query("SELECT Id, Name, Owner.Name FROM Account WHERE Name LIKE 'Bulk 2%'");
    const rows = await collect(stream);
    assert.equal(rows.length, 111); // Bulk 2, Bulk 20-29, Bulk 200-299
    assert.ok(rows.every((r) => r['Owner.Name'] === 'Integration User' && /^001/.test(r.Id)));
  });

  // jsforce 3.10.16's bulk2.query pipes every result set into one CSV parser
  // and fails on the second set (write after end, jsforce/jsforce#1546, seen
  // against Salesforce), so the sets are read here as any HTTP client does.
  test('result sets follow Sforce-Locator until the string null', async () => {
    const job = await conn.request({
      method: 'POST',
      url: `/services/data/v${version}/jobs/query`,
      body: JSON.stringify({ operation: 'query', query: "SELECT Name FROM Account WHERE Name LIKE 'Bulk 2%' ORDER BY Name" }),
      headers: { 'content-type': 'application/json' },
    });
    await conn.bulk2.job('query', { id: job.id }).poll(20, 10_000);
    const names = [];
    const counts = [];
    let locator = '';
    for (let sets = 0; locator !== 'null'; sets++) {
      assert.ok(sets < 5, 'too many result sets');
      const url = `${org.url}/services/data/v${version}/jobs/query/${job.id}/results?maxRecords=50${locator ? `&locator=${locator}` : ''}`;
      const res = await fetch(url, { headers: { Authorization: `Bearer ${conn.accessToken}`, Accept: 'text/csv' } });
      assert.equal(res.status, 200);
      const lines = (await res.text()).trim().split('\n');
      assert.equal(lines[0], '"Name"');
      names.push(...lines.slice(1).map((l) => JSON.parse(l)));
      counts.push(res.headers.get('sforce-numberofrecords'));
      locator = res.headers.get('sforce-locator');
    }
    assert.deepEqual(counts, ['50', '50', '11']);
    assert.equal(new Set(names).size, 111);
  });

  test('Salesforce refusals surface as jsforce errors named by errorCode', async () => {
    await rejectsNamed(conn.bulk2.loadAndWaitForResults({ object: 'Nope__c', operation: 'insert', input: [{ Name: 'x' }] }), 'INVALIDENTITY');
    await rejectsNamed(conn.bulk2.query('SELECT COUNT() FROM Account'), 'FEATURENOTENABLED');
    await rejectsNamed(conn.bulk2.query('SELECT Nope__c FROM Account'), 'INVALID_FIELD');
  });

  test('a job whose CSV header names no field fails with errorMessage', async () => {
    await assert.rejects(
      conn.bulk2.loadAndWaitForResults({ object: 'Account', operation: 'insert', input: 'Name,Bogus__c\nA,B\n' }),
      /Ingest job failed to complete due to: InvalidBatch : Field name not found : Bogus__c/,
    );
  });
});

describe('jsforce bulk2 against an org processing on demand', () => {
  let org;
  let conn;

  before(async () => {
    org = await startOrg({ args: ['-bulk-manual'] });
    conn = await connect(org);
  });

  after(async () => {
    await org?.stop();
  });

  test('a job is UploadComplete, then InProgress, then JobComplete', async () => {
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert', lineEnding: 'CRLF', columnDelimiter: 'SEMICOLON' });
    await job.open();
    await job.uploadData('LastName;FirstName\r\nDoe;Jane\r\nRoe;Rick\r\nPoe;"Edgar; Allan"\r\n');
    await job.close();
    assert.equal((await job.check()).state, 'UploadComplete');
    assert.deepEqual(await processBulk(org, 1), { processed: 1, pending: 1 });
    const mid = await job.check();
    assert.equal(mid.state, 'InProgress');
    assert.equal(mid.numberRecordsProcessed, 1);
    await processBulk(org);
    await job.poll(20, 10_000);
    const all = await job.getAllResults();
    assert.deepEqual(all.successfulResults.map((r) => r.FirstName).sort(), ['Edgar; Allan', 'Jane', 'Rick']);
  });

  test('an aborted job stops polling and keeps its unprocessed rows', async () => {
    const job = conn.bulk2.createJob({ object: 'Contact', operation: 'insert' });
    await job.open();
    await job.uploadData([{ LastName: 'One' }, { LastName: 'Two' }, { LastName: 'Three' }]);
    await job.close();
    await processBulk(org, 1);
    await job.abort();
    await assert.rejects(job.poll(20, 10_000), /Job has been aborted/);
    const unprocessed = await job.getUnprocessedRecords();
    assert.deepEqual(unprocessed.map((r) => r.LastName), ['Two', 'Three']);
  });

  test('an aborted job cannot be aborted again', async () => {
    const job = conn.bulk2.createJob({ object: 'Account', operation: 'insert' });
    await job.open();
    await job.close();
    await job.abort();
    await rejectsNamed(job.abort(), 'INVALIDJOBSTATE');
    await rejectsNamed(job.close(), 'INVALIDJOBSTATE');
  });
});
