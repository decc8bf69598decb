// Drives the local org's data features with jsforce 3.10.16, as a sync tool or
// a workflow would: SOSL search (conn.search) and parameterized search, get
// updated and get deleted (SObject#updated, SObject#deleted), compound
// addresses in records and queries, and Tasks and activity subqueries. The org
// runs on the real clock here; the Go tests pin it (sforg/*_test.go).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import jsforce from 'jsforce';
import { startOrg, rejectsNamed } from './sforg.js';

const version = '45.0';
const minute = 60_000;

let org;

describe('jsforce and the local org data', () => {
  let conn;

  before(async () => {
    org = await startOrg();
    const s = org.settings;
    conn = new jsforce.Connection({
      loginUrl: org.url,
      oauth2: { loginUrl: org.url, clientId: s.SALESFORCE_CLIENT_ID, clientSecret: s.SALESFORCE_CLIENT_SECRET },
      version,
    });
    await conn.login(s.SALESFORCE_USERNAME, s.SALESFORCE_PASSWORD + s.SALESFORCE_SECURITY_TOKEN);
  });

  after(async () => {
    await org?.stop();
  });

  describe('search', () => {
    let acme;
    let contact;
    before(async () => {
      acme = await conn.sobject('Account').create({ Name: 'Searchable Widgets', Phone: '(415) 555-0199' });
      contact = await conn.sobject('Contact').create({ LastName: 'Finder', Email: 'finder@widgets.example' });
    });

    test('conn.search with RETURNING', async () => {
      const res = await conn.search('FIND {widgets} RETURNING Account(Id, Name), Contact(Id, Email)');
      assert.deepEqual(
        res.searchRecords.map((r) => [r.attributes.type, r.Id]),
        [
          ['Account', acme.id],
          ['Contact', contact.id],
        ],
      );
      assert.equal(res.searchRecords[0].Name, 'Searchable Widgets');
      assert.equal(res.searchRecords[0].attributes.url, `/services/data/v${version}/sobjects/Account/${acme.id}`);
      assert.equal(res.searchRecords[1].Email, 'finder@widgets.example');
    });

    test('search groups', async () => {
      const email = await conn.search('FIND {widgets} IN EMAIL FIELDS RETURNING Account, Contact');
      assert.deepEqual(
        email.searchRecords.map((r) => r.Id),
        [contact.id],
      );
      const phone = await conn.search('FIND {555-0199} IN PHONE FIELDS RETURNING Account(Name)');
      assert.deepEqual(
        phone.searchRecords.map((r) => r.Name),
        ['Searchable Widgets'],
      );
    });

    test('errors jsforce raises', async () => {
      const err = await rejectsNamed(conn.search('FIND widgets'), 'MALFORMED_SEARCH');
      assert.equal(err.message, 'No search term found. The search term must be enclosed in braces.');
      await rejectsNamed(conn.search('FIND {w}'), 'INVALID_SEARCH');
      await rejectsNamed(conn.search('FIND {widgets} RETURNING Nope__c'), 'INVALID_TYPE');
    });

    test('parameterized search through conn.request', async () => {
      const res = await conn.request(
        `/services/data/v${version}/parameterizedSearch/?q=widgets&sobject=Account&Account.fields=Id,Phone&Account.limit=5`,
      );
      assert.deepEqual(
        res.searchRecords.map((r) => [r.Id, r.Phone]),
        [[acme.id, '(415) 555-0199']],
      );
    });
  });

  describe('get updated and get deleted', () => {
    test('SObject#updated lists a record created just now', async () => {
      const created = await conn.sobject('Account').create({ Name: 'Replicated' });
      const now = Date.now();
      const res = await conn.sobject('Account').updated(new Date(now - 5 * minute), new Date(now + 2 * minute));
      assert.ok(res.ids.includes(created.id), `${created.id} in ${res.ids}`);
      assert.match(res.latestDateCovered, /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000\+0000$/);
    });

    test('SObject#deleted lists a record deleted just now', async () => {
      const created = await conn.sobject('Account').create({ Name: 'Doomed' });
      await conn.sobject('Account').destroy(created.id);
      const now = Date.now();
      const res = await conn.sobject('Account').deleted(new Date(now - 5 * minute), new Date(now + 2 * minute));
      const entry = res.deletedRecords.find((r) => r.id === created.id);
      assert.ok(entry, `${created.id} in ${JSON.stringify(res.deletedRecords)}`);
      assert.match(entry.deletedDate, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$/);
      assert.equal(typeof res.earliestDateAvailable, 'string');
      assert.equal(typeof res.latestDateCovered, 'string');
    });

    test('windows Salesforce refuses', async () => {
      const now = Date.now();
      const old = await rejectsNamed(
        conn.sobject('Account').updated(new Date(now - 40 * 24 * 60 * minute), new Date(now)),
        'INVALID_REPLICATION_DATE',
      );
      assert.equal(old.message, 'startDate cannot be more than 30 days ago');
      const reversed = await rejectsNamed(
        conn.sobject('Account').deleted(new Date(now), new Date(now - 10 * minute)),
        'INVALID_REPLICATION_DATE',
      );
      assert.equal(reversed.message, 'startDate must be at least one minute greater than endDate');
    });
  });

  describe('compound addresses', () => {
    test('in a retrieved record and in a query', async () => {
      const acc = await conn.sobject('Account').create({
        Name: 'Addressed',
        BillingStreet: '1 Market St',
        BillingCity: 'San Francisco',
        BillingState: 'CA',
        BillingPostalCode: '94105',
        BillingCountry: 'US',
        BillingLatitude: 37.7941,
        BillingLongitude: -122.3952,
      });
      const want = {
        city: 'San Francisco',
        country: 'US',
        geocodeAccuracy: null,
        latitude: 37.7941,
        longitude: -122.3952,
        postalCode: '94105',
        state: 'CA',
        street: '1 Market St',
      };
      const got = await conn.sobject('Account').retrieve(acc.id);
      assert.deepEqual(got.BillingAddress, want);
      assert.equal(got.ShippingAddress, null);
      const q = await conn.query(`SELECT Name, BillingAddress FROM Account WHERE Id = '${acc.id}'`);
      assert.deepEqual(q.records[0].BillingAddress, want);
    });

    test('the compound is read-only', async () => {
      await rejectsNamed(
        conn.sobject('Contact').create({ LastName: 'Nowhere', MailingAddress: { city: 'Paris' } }),
        'INVALID_FIELD_FOR_INSERT_UPDATE',
      );
    });
  });

  describe('activities', () => {
    test('tasks and activity subqueries of a contact', async () => {
      const acc = await conn.sobject('Account').create({ Name: 'Active Co' });
      const con = await conn.sobject('Contact').create({ LastName: 'Busy', AccountId: acc.id });
      await conn.sobject('Task').create({ Subject: 'Call Busy', WhoId: con.id });
      await conn.sobject('Task').create({ Subject: 'Sent brochure', WhoId: con.id, Status: 'Completed' });
      const q = await conn.query(
        `SELECT LastName, (SELECT Subject, Status FROM Tasks ORDER BY Subject), ` +
          `(SELECT Subject FROM OpenActivities), (SELECT Subject, IsTask FROM ActivityHistories) ` +
          `FROM Contact WHERE Id = '${con.id}'`,
      );
      const rec = q.records[0];
      assert.deepEqual(
        rec.Tasks.records.map((t) => [t.Subject, t.Status]),
        [
          ['Call Busy', 'Not Started'],
          ['Sent brochure', 'Completed'],
        ],
      );
      assert.deepEqual(
        rec.OpenActivities.records.map((t) => t.Subject),
        ['Call Busy'],
      );
      assert.deepEqual(
        rec.ActivityHistories.records.map((t) => [t.Subject, t.IsTask]),
        [['Sent brochure', true]],
      );
      const accQ = await conn.query(`SELECT Name, (SELECT Subject FROM ActivityHistories) FROM Account WHERE Id = '${acc.id}'`);
      assert.deepEqual(
        accQ.records[0].ActivityHistories.records.map((t) => t.Subject),
        ['Sent brochure'],
      );
    });

    test('ActivityHistory is not queried on its own', async () => {
      const err = await rejectsNamed(conn.query('SELECT Id FROM ActivityHistory'), 'INVALID_TYPE_FOR_OPERATION');
      assert.equal(err.message, 'entity type ActivityHistory does not support query');
    });
  });
});
