import { z } from 'zod';
import type { EventChannel, EventChannels } from './ipc-contract.ts';
import type { FieldIssue } from './ipc-settings-types.ts';
import { runIdSchema } from './ipc-setup-types.ts';

/**
 * The push part of the IPC contract (ipc-contract.ts is the contract and re-exports it): the zod schema of every push in
 * `EventChannels`, and the check both ends run, main before sending and the window on receipt.
 */

// ---------- push schemas (what main may send) ----------

const longText = z.string().max(20_000);
const instant = z.string().max(64);
const problemSchema = z.object({ code: z.string().max(200), message: longText, fix: longText.optional() }).loose();
const progressSchema = z.object({
  usersDone: z.number().int().nonnegative(),
  usersTotal: z.number().int().nonnegative(),
  currentUser: z.string().max(320).optional(),
  phase: z.string().max(500).optional(),
  entriesDone: z.number().int().nonnegative().optional(),
  startedAt: instant.optional(),
  secondsLeft: z.number().nonnegative().optional(),
});
const liveModeSchema = z.object({ mode: z.enum(['live', 'polling', 'off']), since: instant, reason: z.string().max(2000).optional() });
const liveStatusSchema = z.object({
  on: z.boolean(),
  reason: z.string().max(2000).optional(),
  severa: liveModeSchema,
  users: z.record(z.string().max(320), liveModeSchema),
  pending: z.number().int().nonnegative(),
  cycles: z.number().int().nonnegative(),
  lastCycleAt: instant.optional(),
});
const auditDifferenceSchema = z.object({
  email: z.string().max(320),
  subject: z.string().max(2000),
  start: instant,
  what: z.string().max(100),
  severa: longText.nullable(),
  exchange: longText.nullable(),
  story: longText,
  rule: longText.nullable(),
});
const auditStatusSchema = z.object({
  everyHours: z.number().nonnegative(),
  running: z.boolean(),
  nextAfter: instant.optional(),
  last: z
    .object({
      at: instant,
      users: z.number().int().nonnegative(),
      pairs: z.number().int().nonnegative(),
      agreeing: z.number().int().nonnegative(),
      explained: z.number().int().nonnegative(),
      unexplained: z.number().int().nonnegative(),
      differences: z.array(auditDifferenceSchema).max(1000),
      failedUsers: z.array(z.object({ email: z.string().max(320), error: longText })).max(100_000),
      error: longText.optional(),
    })
    .optional(),
});
const runnerStatusSchema = z.object({
  state: z.enum(['idle', 'syncing', 'error', 'paused']),
  lastRunAt: instant.optional(),
  nextRunAt: instant.optional(),
  pausedUntil: instant.nullable().optional(),
  progress: progressSchema.optional(),
  consecutiveFailures: z.number().int().nonnegative(),
  waitingFor: z.enum(['settings', 'enrollment']).optional(),
  startsAt: instant.optional(),
  live: liveStatusSchema.optional(),
  audit: auditStatusSchema.optional(),
});
const changeSchema = z.object({
  side: z.enum(['severa', 'exchange']),
  action: z.enum(['create', 'update', 'delete']),
  subject: z.string().max(2000),
  start: instant,
  reason: z.string().max(2000).optional(),
  at: instant,
});
const setupSchema = z.object({
  settingsSaved: z.boolean(),
  connectionTest: z.enum(['not-run', 'passed', 'failed']),
  anyoneEnrolled: z.boolean(),
  meEnrolled: z.boolean(),
  synced: z.boolean(),
});
const checkViewSchema = z.object({ id: z.string().min(1).max(400), title: z.string().max(400), ok: z.boolean(), message: longText, fix: longText.optional() });

/**
 * Every push's shape. Unknown keys are dropped (the window sees only what the contract names), except inside a user's
 * status, whose counts and outcome come straight from the sync report.
 */
export const eventSchemas = {
  status: runnerStatusSchema,
  report: z.object({
    runner: runnerStatusSchema,
    users: z.array(
      z.object({ email: z.string().max(320), conflicts: z.number(), heldDeletions: z.number(), errors: z.array(problemSchema), notes: z.array(longText), firstSyncDone: z.boolean(), recentChanges: z.array(changeSchema).max(500).optional(), mailboxLocation: z.object({ label: z.string().max(500), since: instant }).optional() }).loose(),
    ),
    orgErrors: z.array(problemSchema),
    lastCycle: z.object({ startedAt: instant, finishedAt: instant, outcome: z.enum(['ok', 'partial', 'failed']) }).optional(),
    logPath: z.string().max(4096).nullable(),
    setup: setupSchema,
  }),
  progress: progressSchema,
  navigate: z.object({ section: z.enum(['admin', 'personal', 'status']) }),
  'connection:check': z.object({ runId: runIdSchema, index: z.number().int().nonnegative().max(10_000), check: checkViewSchema }),
} satisfies Record<EventChannel, z.ZodType>;

export const EVENT_CHANNELS = Object.keys(eventSchemas) as EventChannel[];

/** Compiles only while every schema's output is its channel's type, so the two cannot drift apart. */
export type EventSchemasMatchContract = AssertTrue<{ [E in EventChannel]: z.infer<(typeof eventSchemas)[E]> extends EventChannels[E] ? true : false }[EventChannel]>;
type AssertTrue<T extends true> = T;

export type ParsedEvent<E extends EventChannel> = { ok: true; data: EventChannels[E] } | { ok: false; issues: FieldIssue[] };

/** Checks a push against its schema: main calls it before sending, the window on receipt. */
export function parseEvent<E extends EventChannel>(event: E, data: unknown): ParsedEvent<E> {
  if (!Object.hasOwn(eventSchemas, event)) return { ok: false, issues: [{ path: '', message: `Unknown event "${String(event)}".` }] };
  const parsed = (eventSchemas[event] as z.ZodType).safeParse(data);
  if (parsed.success) return { ok: true, data: parsed.data as EventChannels[E] };
  return { ok: false, issues: parsed.error.issues.map((i) => ({ path: i.path.map(String).join('.'), message: i.message })) };
}
