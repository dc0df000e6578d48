/**
 * Benchmark of the EWS simulator at firm scale: 1,000 mailboxes x 1,000 items (2 % of them weekly series), then the
 * server-side CPU per request of the operations a sync uses. It shows the simulator is far from being the bottleneck
 * and that a request's cost follows what it returns, not how much the server holds (the same requests are timed on
 * a small store for comparison).
 *
 * CPU is process.cpuUsage() around the simulator's synchronous handling of each request (parse, auth, work, write
 * the XML), reported by the server itself; HTTP parsing and socket I/O by Node are not included.
 * Run alone: node test/peers/ews/bench-ews-simulator.ts [mailboxes] [itemsPerMailbox]
 */
import { Agent, request } from 'node:http';
import type { SimCalendarItem } from './calendar-model.ts';
import { EwsService } from './ews-service.ts';
import { startEwsServer } from './ews-simulator.ts';
import type { EwsRequestLogEntry, EwsSimulator } from './ews-simulator.ts';
import { validateEwsSeed } from './seed.ts';
import { ewsDateTime } from './soap-envelope.ts';

const T_NS = 'http://schemas.microsoft.com/exchange/services/2006/types';
const M_NS = 'http://schemas.microsoft.com/exchange/services/2006/messages';
const TAG_SET = '8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60';
const HOUR = 3_600_000;

export interface EwsBenchOptions {
  mailboxes?: number;
  itemsPerMailbox?: number;
  /** Requests timed per operation. */
  samples?: number;
}

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Fills the store directly (a seed file of a million items would only measure JSON parsing). */
function buildStore(mailboxes: number, perMailbox: number, nowMs: number): EwsService {
  const seed = validateEwsSeed({
    timeZone: 'Europe/Helsinki',
    server: { authMethods: ['Basic'] },
    delegates: [{ username: 'svc-bench', password: 'bench-password', impersonation: 'all' }],
    mailboxes: Array.from({ length: mailboxes }, (_, i) => ({
      primarySmtp: `user${i}@contoso.example`,
      displayName: `User ${i}`,
      username: `user${i}`,
      password: `bench-${i}`,
    })),
  });
  const service = new EwsService(seed, nowMs);
  const base = Date.UTC(2026, 0, 5, 7);
  // Empty lists shared by all items (the store never changes a list in place), to keep a million items lean.
  const none = Object.freeze([]) as unknown as never[];
  const created = ewsDateTime(nowMs);
  for (const mb of service.directory.mailboxes) {
    for (let j = 0; j < perMailbox; j++) {
      // Items every 9 hours from January on: about a year of a busy calendar.
      const start = base + j * 9 * HOUR;
      const series = j % 50 === 0;
      const item: SimCalendarItem = {
        id: '',
        changeKey: '',
        mailbox: mb.primary,
        uid: `040000008200E00074C5B7101A82E0080000000000000000000000000000000${mb.guid.slice(0, 8)}${String(j).padStart(17, '0')}`,
        subject: series ? `Weekly ${j}` : `Item ${j}`,
        start: ewsDateTime(start),
        end: ewsDateTime(start + HOUR),
        isAllDay: false,
        timeZone: 'Europe/Helsinki',
        location: '',
        body: '',
        bodyType: 'Text',
        sensitivity: j % 10 === 0 ? 'Private' : 'Normal',
        legacyFreeBusyStatus: 'Busy',
        organizer: mb.primary,
        requiredAttendees: none,
        optionalAttendees: none,
        categories: none,
        reminderIsSet: true,
        reminderMinutesBeforeStart: 15,
        recurrence: series
          ? { pattern: { type: 'Weekly', interval: 1, daysOfWeek: [(['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const)[new Date(start + 2 * HOUR).getUTCDay()]] }, range: { type: 'Numbered', startDate: ewsDateTime(start + 2 * HOUR).slice(0, 10), count: 52 } }
          : null,
        modifiedOccurrences: none,
        deletedOccurrences: none,
        extendedProperties: j % 2 === 0 ? [{ propertySetId: TAG_SET, propertyName: 'SeveraGuid', propertyType: 'String', value: `sev-${mb.guid.slice(0, 8)}-${j}` }] : none,
        isCancelled: false,
        myResponseType: 'Organizer',
        appointmentSequenceNumber: 0,
        dateTimeCreated: created,
        lastModifiedTime: created,
        calendarItemType: series ? 'RecurringMaster' : 'Single',
      };
      mb.calendar.create(item, nowMs);
    }
  }
  return service;
}

function envelopeFor(mailbox: string, body: string): string {
  return (
    `<?xml version="1.0" encoding="utf-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:t="${T_NS}" xmlns:m="${M_NS}">` +
    `<soap:Header><t:RequestServerVersion Version="Exchange2013"/><t:ExchangeImpersonation><t:ConnectingSID><t:SmtpAddress>${mailbox}</t:SmtpAddress>` +
    `</t:ConnectingSID></t:ExchangeImpersonation></soap:Header><soap:Body>${body}</soap:Body></soap:Envelope>`
  );
}

const AUTH = `Basic ${Buffer.from('CONTOSO\\svc-bench:bench-password').toString('base64')}`;

function post(url: string, agent: Agent, xml: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', agent, headers: { 'Content-Type': 'text/xml; charset=utf-8', Authorization: AUTH } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200 || !text.includes('ResponseClass="Success"')) reject(new Error(`bench request failed (${res.statusCode}): ${text.slice(0, 400)}`));
        else resolve(text);
      });
    });
    req.on('error', reject);
    req.end(xml);
  });
}

interface Stats {
  median: number;
  p95: number;
  mean: number;
  returned: number;
}

function stats(values: number[], returned: number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  return { median: s[Math.floor(s.length / 2)], p95: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))], mean, returned: returned.reduce((a, b) => a + b, 0) / returned.length };
}

const count = (text: string, needle: string): number => text.split(needle).length - 1;

interface Scenario {
  name: string;
  /** Builds one request for a mailbox index; may read the store for ids. */
  make(mb: number): string;
  returned(response: string): number;
}

async function measure(service: EwsService, samples: number): Promise<Map<string, Stats>> {
  const cpu: number[] = [];
  const sim: EwsSimulator = await startEwsServer(service, { onRequest: (e: EwsRequestLogEntry) => e.cpuMicros !== undefined && cpu.push(e.cpuMicros) });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const mailboxes = service.directory.mailboxes;
  const rnd = prng(7);
  const pickIds = (mb: number, n: number): string[] => {
    const items = mailboxes[mb].calendar.items;
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const s = items.get(1 + Math.floor(rnd() * items.size));
      if (s) out.push(s.data.id);
    }
    return out;
  };
  const syncStates = new Map<number, string>();
  const stateOf = (text: string): string => /<m:SyncState>([^<]*)<\/m:SyncState>/.exec(text)?.[1] ?? '';
  const shape = `<m:ItemShape><t:BaseShape>IdOnly</t:BaseShape><t:AdditionalProperties><t:FieldURI FieldURI="item:Subject"/><t:FieldURI FieldURI="calendar:Start"/><t:FieldURI FieldURI="calendar:End"/><t:FieldURI FieldURI="item:LastModifiedTime"/></t:AdditionalProperties></m:ItemShape>`;
  const fullShape = `<m:ItemShape><t:BaseShape>AllProperties</t:BaseShape><t:AdditionalProperties><t:ExtendedFieldURI PropertySetId="${TAG_SET}" PropertyName="SeveraGuid" PropertyType="String"/></t:AdditionalProperties></m:ItemShape>`;
  const calendar = '<t:DistinguishedFolderId Id="calendar"/>';
  const week0 = Date.UTC(2026, 2, 2);
  const scenarios: Scenario[] = [
    {
      name: 'GetItem, 1 item, all properties',
      make: (mb) => `<m:GetItem>${fullShape}<m:ItemIds><t:ItemId Id="${pickIds(mb, 1)[0]}"/></m:ItemIds></m:GetItem>`,
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
    {
      name: 'GetItem, batch of 10, all properties',
      make: (mb) => `<m:GetItem>${fullShape}<m:ItemIds>${pickIds(mb, 10).map((id) => `<t:ItemId Id="${id}"/>`).join('')}</m:ItemIds></m:GetItem>`,
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
    {
      name: 'SyncFolderItems, no change since last state',
      make: (mb) =>
        `<m:SyncFolderItems>${shape}<m:SyncFolderId>${calendar}</m:SyncFolderId><m:SyncState>${syncStates.get(mb) ?? ''}</m:SyncState><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`,
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
    {
      name: 'SyncFolderItems, initial, page of 512',
      make: () => `<m:SyncFolderItems>${shape}<m:SyncFolderId>${calendar}</m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`,
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
    {
      name: 'FindItem CalendarView, one week',
      make: () => {
        const from = week0 + Math.floor(rnd() * 30) * 7 * 86_400_000;
        return `<m:FindItem Traversal="Shallow">${shape}<m:CalendarView StartDate="${ewsDateTime(from)}" EndDate="${ewsDateTime(from + 7 * 86_400_000)}"/><m:ParentFolderIds>${calendar}</m:ParentFolderIds></m:FindItem>`;
      },
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
    {
      name: 'CreateItem, 1 item with a sync tag',
      make: (mb) =>
        `<m:CreateItem SendMeetingInvitations="SendToNone"><m:SavedItemFolderId>${calendar}</m:SavedItemFolderId><m:Items><t:CalendarItem><t:Subject>Bench ${mb}</t:Subject>` +
        `<t:ExtendedProperty><t:ExtendedFieldURI PropertySetId="${TAG_SET}" PropertyName="SeveraGuid" PropertyType="String"/><t:Value>bench-${rnd()}</t:Value></t:ExtendedProperty>` +
        `<t:Start>2026-06-01T09:00:00Z</t:Start><t:End>2026-06-01T10:00:00Z</t:End></t:CalendarItem></m:Items></m:CreateItem>`,
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
    {
      name: 'FindItem by sync tag (indexed restriction)',
      make: (mb) =>
        `<m:FindItem Traversal="Shallow">${shape}<m:Restriction><t:IsEqualTo><t:ExtendedFieldURI PropertySetId="${TAG_SET}" PropertyName="SeveraGuid" PropertyType="String"/>` +
        `<t:FieldURIOrConstant><t:Constant Value="sev-${mailboxes[mb].guid.slice(0, 8)}-${2 * Math.floor(rnd() * 400)}"/></t:FieldURIOrConstant></t:IsEqualTo></m:Restriction><m:ParentFolderIds>${calendar}</m:ParentFolderIds></m:FindItem>`,
      returned: (r) => count(r, '<t:CalendarItem>'),
    },
  ];
  const out = new Map<string, Stats>();
  try {
    // Warm up (JIT, Intl caches) and take each mailbox's current sync state for the no-change scenario.
    for (let i = 0; i < Math.min(mailboxes.length, samples); i++) {
      const text = await post(sim.url, agent, envelopeFor(mailboxes[i].primary, `<m:SyncFolderItems>${shape}<m:SyncFolderId>${calendar}</m:SyncFolderId><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`));
      let state = stateOf(text);
      while (!text.includes('<m:IncludesLastItemInRange>true')) {
        const next = await post(sim.url, agent, envelopeFor(mailboxes[i].primary, `<m:SyncFolderItems>${shape}<m:SyncFolderId>${calendar}</m:SyncFolderId><m:SyncState>${state}</m:SyncState><m:MaxChangesReturned>512</m:MaxChangesReturned></m:SyncFolderItems>`));
        state = stateOf(next);
        if (next.includes('<m:IncludesLastItemInRange>true')) break;
      }
      syncStates.set(i, state);
    }
    for (const sc of scenarios) {
      for (let w = 0; w < 5; w++) await post(sim.url, agent, envelopeFor(mailboxes[w % mailboxes.length].primary, sc.make(w % mailboxes.length)));
      cpu.length = 0;
      const returned: number[] = [];
      for (let i = 0; i < samples; i++) {
        const mb = sc.name.startsWith('SyncFolderItems, no change') ? i % Math.min(mailboxes.length, samples) : Math.floor(rnd() * mailboxes.length);
        returned.push(sc.returned(await post(sim.url, agent, envelopeFor(mailboxes[mb].primary, sc.make(mb)))));
      }
      out.set(sc.name, stats(cpu.slice(), returned));
    }
  } finally {
    agent.destroy();
    await sim.close();
  }
  return out;
}

export async function benchEwsSimulator(options: EwsBenchOptions = {}): Promise<string[]> {
  const mailboxes = options.mailboxes ?? 1000;
  const perMailbox = options.itemsPerMailbox ?? 1000;
  const samples = options.samples ?? 200;
  const lines: string[] = [];
  const heapBefore = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  const big = buildStore(mailboxes, perMailbox, Date.now());
  const fillMs = performance.now() - t0;
  const heapMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
  const atSize = await measure(big, samples);
  const small = await measure(buildStore(10, perMailbox, Date.now()), samples);
  lines.push(`EWS simulator: ${mailboxes} mailboxes x ${perMailbox} items = ${(mailboxes * perMailbox).toLocaleString('en-US')} items, filled in ${(fillMs / 1000).toFixed(1)} s, ~${heapMb.toFixed(0)} MB heap`);
  lines.push(`EWS simulator CPU per request (µs, median / p95; ${samples} requests each), at that size vs. 10 mailboxes of the same size:`);
  const w = Math.max(...[...atSize.keys()].map((k) => k.length));
  for (const [name, s] of atSize) {
    const b = small.get(name)!;
    lines.push(
      `  ${name.padEnd(w)}  ${s.median.toFixed(0).padStart(6)} / ${s.p95.toFixed(0).padStart(6)}   (10 mailboxes ${b.median.toFixed(0).padStart(6)} / ${b.p95.toFixed(0).padStart(6)})   items returned ${s.returned.toFixed(1)}, ${(s.median / Math.max(1, s.returned)).toFixed(0)} µs per item`,
    );
  }
  return lines;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [m, n] = process.argv.slice(2).map(Number);
  for (const line of await benchEwsSimulator({ mailboxes: m || undefined, itemsPerMailbox: n || undefined })) console.log(line);
}
