import type { ActivityFilter, MemberStatus, RecurrenceKind } from './activity-records.ts';
import type { SeveraStore } from './activity-store.ts';
import { applyPatchOperations, inputFromActivityModel, type PatchOp } from './activity-input.ts';
import { actor, dateParam, HttpError, pageReply, rowCountOf, strings, type Reply, type RouteAdder } from './http-routing.ts';
import type { SeveraFaults } from './severa-simulator.ts';

/**
 * The activity routes of the Severa simulator: list, get, create, patch and delete activities (series, occurrences and
 * exceptions as the store has them), and an activity's participants. A server that differs (fault injection) may keep
 * a write otherwise: `differs` draws from the simulator's fault generator, `faults` gives its current rates.
 */

export interface ActivityRouteDeps {
  store: SeveraStore;
  faults: () => SeveraFaults;
  differs: (rate: number | undefined) => boolean;
}

export function addActivityRoutes(route: RouteAdder, { store, faults, differs }: ActivityRouteDeps): void {
  function activityReply(guid: string, status = 200): Reply {
    const view = store.getView(guid);
    if (!view) throw new HttpError(404, 'InvalidParameter', `Activity ${guid} was not found.`);
    return { status, body: store.renderActivity(view) };
  }

  route('Activities_GetActivities', (ctx) => {
    const q = ctx.query;
    const filter: ActivityFilter = {};
    if (strings(q.userGuids)) filter.userGuids = strings(q.userGuids);
    if (q.includeAsMember === true) filter.includeAsMember = true;
    if (q.startDateTime != null) filter.startMs = dateParam(q.startDateTime);
    if (q.endDateTime != null) filter.endMs = dateParam(q.endDateTime);
    if (q.useStrictStartAndEndDateTime === true) filter.strict = true;
    if (q.changedSince != null) filter.changedSinceMs = dateParam(q.changedSince);
    if (strings(q.activityCategories)) filter.categories = strings(q.activityCategories);
    if (strings(q.activityTypeGuids)) filter.typeGuids = strings(q.activityTypeGuids);
    if (typeof q.recurrenceType === 'string') filter.recurrenceType = q.recurrenceType as RecurrenceKind;
    if (typeof q.closed === 'boolean') filter.closed = q.closed;
    const page = store.listActivities(filter, (q.pageToken as string | null) ?? null, rowCountOf(q));
    return pageReply(page.items.map((v) => store.renderActivity(v)), page.nextPageToken);
  });

  route('Activities_PostActivity', (ctx) => {
    const input = inputFromActivityModel(ctx.body);
    if (input.location && differs(faults().dropLocationRate)) input.location = null;
    const rec = store.createActivity(input, actor(ctx));
    return activityReply(rec.guid, 201);
  });

  route('Activities_GetActivity', (ctx) => activityReply(ctx.params.guid));

  route('Activities_PatchActivity', (ctx) => {
    if (ctx.params.guid.includes(',')) throw new HttpError(400, 'InvalidParameter', 'The simulator patches one activity per call.');
    if (!Array.isArray(ctx.body)) throw new HttpError(400, 'InvalidRequest', 'The request body must be a JSON Patch array.');
    let ops = ctx.body as PatchOp[];
    if (ops.some((op) => op.path === '/name') && differs(faults().keepNameRate)) {
      ops = ops.filter((op) => op.path !== '/name');
      // Answered as done even when nothing else was asked: the activity as it is.
      const view = store.getView(ctx.params.guid);
      if (ops.length === 0 && view) return { status: 200, body: [store.renderActivity(view)] };
    }
    const rec = store.updateActivity(ctx.params.guid, (cur) => applyPatchOperations(cur, ops), actor(ctx));
    return { status: 200, body: [store.renderActivity({ rec, occurrenceStartMs: null })] };
  });

  route('Activities_DeleteActivity', (ctx) => {
    store.deleteActivity(ctx.params.guid, actor(ctx));
    return { status: 204 };
  });

  route('ActivityParticipants_GetActivityParticipants', (ctx) => {
    const { participants } = store.participantsOf(ctx.params.activityGuid);
    return { status: 200, body: participants.map((p) => store.renderParticipant(ctx.params.activityGuid, p)) };
  });

  route('ActivityParticipants_DeleteActivityParticipant', (ctx) => {
    store.removeParticipant(ctx.params.activityGuid, ctx.params.activityParticipantGuid, actor(ctx));
    return { status: 204 };
  });

  route('ActivityParticipants_PostActivityParticipant', (ctx) => {
    const body = ctx.body as { activityGuid?: string; participantGuid?: string; status?: MemberStatus } | null;
    if (!body || typeof body.activityGuid !== 'string' || typeof body.participantGuid !== 'string') {
      throw new HttpError(400, 'InvalidRequest', 'The request body must be an ActivityParticipantModel with activityGuid and participantGuid.');
    }
    const { rec, participant } = store.addParticipant(body.activityGuid, body.participantGuid, body.status, actor(ctx));
    return { status: 201, body: store.renderParticipant(rec.guid, participant) };
  });

  route('ActivityParticipants_GetActivityParticipant', (ctx) => {
    const found = store.participantByGuid(ctx.params.guid);
    if (!found) throw new HttpError(404, 'InvalidParameter', `Participant ${ctx.params.guid} was not found.`);
    return { status: 200, body: store.renderParticipant(found.rec.guid, found.participant) };
  });
}
