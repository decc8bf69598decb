// Drives the local org's routing and its resources beyond records and
// queries with jsforce 3.10.16, through jsforce's own methods: identity,
// recently viewed items, query explain, list views, page layouts, token
// revocation, Organization (production and -sandbox), Metadata API calls
// posted below /services/Soap/m/NN.N/, and the answers for unknown paths.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jsforce from 'jsforce';
import { SOAP } from 'jsforce/lib/soap.js';
import { rejectsNamed, startOrg } from './sforg.js';

const version = '45.0';
const orgId = '00D5g000004XyZaEAK'; // sforg.OrgID

/** Logs in to org by the OAuth 2.0 username-password flow. */
async function oauthLogin(org) {
  const s = org.settings;
  const conn = new jsforce.Connection({
    loginUrl: org.url,
    oauth2: { loginUrl: org.url, clientId: s.SALESFORCE_CLIENT_ID, clientSecret: s.SALESFORCE_CLIENT_SECRET },
    version,
  });
  await conn.login(s.SALESFORCE_USERNAME, s.SALESFORCE_PASSWORD + s.SALESFORCE_SECURITY_TOKEN);
  return conn;
}

describe('jsforce against the local org: routes and resources', () => {
  let org;
  let conn;
  const ids = [];

  before(async () => {
    org = await startOrg();
    conn = await oauthLogin(org);
    for (const Name of ['Burlington Textiles Corp of America', 'Acme', 'Globex']) {
      ids.push((await conn.sobject('Account').create({ Name, BillingState: 'NC' })).id);
    }
  });

  after(async () => {
    await org?.stop();
  });

  test('identity: the documented fields', async () => {
    const id = await conn.identity();
    assert.equal(id.organization_id, orgId);
    assert.equal(id.user_id, conn.userInfo.id);
    assert.match(id.photos.picture, /^http:\/\/127\.0\.0\.1:\d+\/profilephoto\//);
    assert.ok(id.photos.thumbnail);
    assert.equal(id.urls.rest, `${org.url}/services/data/v{version}/`);
    assert.equal(id.urls.custom_domain, org.url);
    assert.equal(id.user_type, 'STANDARD');
    assert.equal(id.language, 'en_US');
    assert.equal(id.locale, 'en_US');
    assert.equal(id.utcOffset, -28800000);
    assert.equal(id.is_app_installed, true);
    assert.ok(!Number.isNaN(Date.parse(id.last_modified_date)));
  });

  test('recent: newest first, limit', async () => {
    const all = await conn.recent();
    assert.deepEqual(
      all.map((r) => r.Id),
      [...ids].reverse(),
    );
    assert.equal(all[0].attributes.type, 'Account');
    assert.equal(all[0].Name, 'Globex');
    const two = await conn.recent(2);
    assert.equal(two.length, 2);
    const typed = await conn.recent('Account', 1);
    assert.equal(typed.length, 1);
  });

  test('query explain: plans, and the query error for a bad query', async () => {
    const res = await conn.query("SELECT Id FROM Account WHERE Name = 'Acme'").explain();
    assert.deepEqual(
      res.plans.map((p) => p.leadingOperationType),
      ['Index', 'TableScan'],
    );
    assert.deepEqual(res.plans[0].fields, ['Name']);
    assert.equal(res.plans[0].sobjectType, 'Account');
    assert.equal(res.plans[0].cardinality, 1);
    const scan = (await conn.query("SELECT Id FROM Account WHERE BillingState = 'NC'").explain()).plans;
    assert.deepEqual(scan[0].notes[0].fields, ['BillingState']);
    await rejectsNamed(conn.query('SELECT Id FROM Nope__c').explain(), 'INVALID_TYPE');
  });

  test('list views: list, describe, results, explain', async () => {
    const account = conn.sobject('Account');
    const { listviews } = await account.listviews();
    assert.deepEqual(
      listviews.map((v) => v.developerName),
      ['AllAccounts', 'MyAccounts'],
    );
    const mine = account.listview(listviews[1].id);
    const results = await mine.results();
    assert.equal(results.size, 3);
    assert.equal(results.label, 'My Accounts');
    assert.deepEqual(
      results.records.map((r) => r.columns[0].value),
      ['Acme', 'Burlington Textiles Corp of America', 'Globex'],
    );
    const desc = await mine.describe();
    assert.equal(desc.scope, 'mine');
    assert.match(desc.query, /^SELECT Name, Site, BillingState, Phone, toLabel\(Type\), Owner\.Alias, Id/);
    const plan = await mine.explain();
    assert.equal(plan.plans.at(-1).leadingOperationType, 'TableScan');
    await rejectsNamed(account.listview('00B5g0000000000AAA').results(), 'NOT_FOUND');
  });

  test('layouts: the master record type layout', async () => {
    const res = await conn.sobject('Account').layouts();
    assert.equal(res.layouts.length, 1);
    assert.equal(res.recordTypeMappings[0].recordTypeId, '012000000000000AAA');
    assert.deepEqual(res.recordTypeSelectorRequired, [false]);
    const fields = res.layouts[0].detailLayoutSections[0].layoutRows.flatMap((r) => r.layoutItems.map((i) => i.layoutComponents[0].value));
    assert.ok(fields.includes('Name') && fields.includes('BillingState'), fields.join(','));
    await rejectsNamed(conn.sobject('Account').layouts('UserAlt'), 'NOT_FOUND');
  });

  test('Organization: production', async () => {
    const { records } = await conn.query('SELECT Id, IsSandbox, InstanceName, OrganizationType, TimeZoneSidKey FROM Organization');
    assert.equal(records.length, 1);
    assert.equal(records[0].Id, orgId);
    assert.equal(records[0].IsSandbox, false);
    assert.equal(records[0].OrganizationType, 'Developer Edition');
    assert.equal(records[0].TimeZoneSidKey, 'America/Los_Angeles');
    const d = await conn.sobject('Organization').describe();
    assert.equal(d.createable, false);
  });

  test('Organization: a -sandbox org', async () => {
    const sandbox = await startOrg({ args: ['-sandbox'] });
    try {
      const c = await oauthLogin(sandbox);
      const { records } = await c.query('SELECT IsSandbox, InstanceName FROM Organization');
      assert.equal(records[0].IsSandbox, true);
      assert.match(records[0].InstanceName, /S$/);
    } finally {
      await sandbox.stop();
    }
  });

  test('Metadata API calls posted below /services/Soap/m/NN.N/', async () => {
    const metadata = {
      '@xsi:type': 'CustomObject',
      fullName: 'Below__c',
      label: 'Below',
      pluralLabel: 'Belows',
      nameField: { type: 'Text', label: 'Below Name' },
      deploymentStatus: 'Deployed',
      sharingModel: 'ReadWrite',
    };
    for (const [path, fullName] of [
      [`/services/Soap/m/${version}/`, 'Slash__c'],
      [`/services/Soap/m/${version}/deployRequest/0Af5g00000XyZaB`, 'Below__c'],
    ]) {
      const soap = new SOAP(conn, { xmlns: 'http://soap.sforce.com/2006/04/metadata', endpointUrl: org.url + path });
      const res = await soap.invoke('createMetadata', { metadata: { ...metadata, fullName } });
      assert.equal(res.result.success, 'true', JSON.stringify(res));
      assert.equal(res.result.fullName, fullName);
    }
    const d = await conn.sobject('Slash__c').describe();
    assert.equal(d.name, 'Slash__c');
  });

  test('unknown paths: the API error shape', async () => {
    await rejectsNamed(conn.request('/services/data/v45.0/nope'), 'NOT_FOUND');
    const soap = new SOAP(conn, { xmlns: 'urn:partner.soap.sforce.com', endpointUrl: `${org.url}/services/Soap/x/${version}` });
    await rejectsNamed(soap.invoke('getUserInfo', {}), 'soapenv:Client');
    const res = await fetch(`${org.url}/services/Soap/u/${version}`);
    assert.equal(res.status, 405);
    assert.match(await res.text(), /Only POST allowed/);
  });

  test('revokeToken: the session ends; a bad token is unsupported_token_type', async () => {
    const c = await oauthLogin(org);
    const token = c.accessToken;
    await c.oauth2.revokeToken(token);
    // A connection with only the token (no credentials to log in again).
    const bare = new jsforce.Connection({ instanceUrl: org.url, accessToken: token, version });
    await rejectsNamed(bare.query('SELECT Id FROM Account'), 'INVALID_SESSION_ID');
    await rejectsNamed(c.oauth2.revokeToken('garbage'), 'unsupported_token_type');
    await rejectsNamed(c.oauth2.revokeToken(token), 'invalid_token');
  });
});
