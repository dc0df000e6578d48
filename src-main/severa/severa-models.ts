import { z } from 'zod';

/**
 * The Severa REST API shapes the product uses, from the public OpenAPI document (shared/severa/severa-openapi-subset.yaml),
 * as zod schemas that check what the server sends back. Only the fields the sync reads are declared; others are dropped.
 * A response that does not fit becomes a SeveraError('bad-response') in the client, never a crash further on.
 */

/** RFC 3339 date-time with an offset, as the document's `format: date-time` requires. */
const dateTime = z.iso.datetime({ offset: true });
const nullableString = z.string().nullable().optional();

export const ACTIVITY_CATEGORIES = ['Personal', 'Absences', 'CalendarEntry', 'SalesEvent', 'Task'] as const;
export const activityCategory = z.enum(ACTIVITY_CATEGORIES);
export type ActivityCategory = z.infer<typeof activityCategory>;

export const RECURRENCE_TYPES = ['None', 'Occurrence', 'Exception', 'Series'] as const;
export const recurrenceType = z.enum(RECURRENCE_TYPES);
export type RecurrenceType = z.infer<typeof recurrenceType>;

export const dayOrdinal = z.enum(['First', 'Second', 'Third', 'Fourth', 'Last']);
export const dayOrdinalOption = z.enum(['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'WeekDay', 'Saturday', 'WeekendDay', 'Day']);
export const monthName = z.enum(['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December']);

export const activityRecurrenceModel = z.object({
  frequency: z.enum(['Daily', 'Weekly', 'Monthly', 'Yearly']),
  pattern: z
    .object({
      daily: z.object({ everyWeekday: z.boolean().optional(), interval: z.number().int().nullable().optional() }).nullable().optional(),
      weekly: z
        .object({
          interval: z.number().int().optional(),
          monday: z.boolean().optional(),
          tuesday: z.boolean().optional(),
          wednesday: z.boolean().optional(),
          thursday: z.boolean().optional(),
          friday: z.boolean().optional(),
          saturday: z.boolean().optional(),
          sunday: z.boolean().optional(),
        })
        .nullable()
        .optional(),
      monthly: z
        .object({
          interval: z.number().int().optional(),
          dayOfMonth: z.number().int().nullable().optional(),
          dayOrdinal: dayOrdinal.nullable().optional(),
          dayOrdinalOption: dayOrdinalOption.nullable().optional(),
        })
        .nullable()
        .optional(),
      yearly: z
        .object({
          month: monthName.optional(),
          dayOfMonth: z.number().int().nullable().optional(),
          dayOrdinal: dayOrdinal.nullable().optional(),
          dayOrdinalOption: dayOrdinalOption.nullable().optional(),
        })
        .nullable()
        .optional(),
    })
    .nullable()
    .optional(),
  range: z
    .object({ maxOccurrences: z.number().int().nullable().optional(), recursUntilDate: z.string().nullable().optional() })
    .nullable()
    .optional(),
  lastOccurrenceDateTime: dateTime.nullable().optional(),
  /** Read-only: original starts of changed or deleted occurrences. */
  exceptions: z.array(dateTime).nullable().optional(),
});
export type ActivityRecurrenceModel = z.infer<typeof activityRecurrenceModel>;

export const activityModel = z.object({
  guid: z.string().min(1),
  name: z.string(),
  startDateTime: dateTime,
  endDateTime: dateTime.nullable().optional(),
  isAllDay: z.boolean().optional().default(false),
  isClosed: z.boolean().optional().default(false),
  notes: nullableString,
  location: nullableString,
  activityType: z.object({ guid: z.string().min(1), name: nullableString, category: activityCategory.optional() }),
  ownerUser: z.object({ guid: z.string().min(1), name: nullableString }),
  recurrence: activityRecurrenceModel.nullable().optional(),
  recurrenceType: recurrenceType.optional(),
  recurrenceParentActivityGuid: nullableString,
  recurrenceRule: nullableString,
  createdDateTime: dateTime.optional(),
  lastUpdatedDateTime: dateTime.nullable().optional(),
});
export type ActivityModel = z.infer<typeof activityModel>;

/** What `createActivity` sends (ActivityModel without the read-only fields). */
export interface ActivityCreateModel {
  name: string;
  startDateTime: string;
  endDateTime?: string | null;
  isAllDay?: boolean;
  isClosed?: boolean;
  notes?: string | null;
  location?: string | null;
  activityType: { guid: string };
  ownerUser: { guid: string };
  recurrence?: Omit<ActivityRecurrenceModel, 'exceptions'> | null;
}

export const memberStatus = z.enum(['Unknown', 'Invited', 'Accepted', 'Tentative', 'Declined']);

export const activityParticipantModel = z.object({
  guid: z.string().min(1),
  activityGuid: z.string().min(1),
  /** The user's guid (UserOutputModel.guid). */
  participantGuid: z.string().min(1),
  name: nullableString,
  email: nullableString,
  isActive: z.boolean().optional(),
  status: memberStatus.optional(),
  type: z.enum(['User', 'Contact', 'Resource', 'Other']).optional(),
});
export type ActivityParticipantModel = z.infer<typeof activityParticipantModel>;

export const activityTypeModel = z.object({
  guid: z.string().min(1),
  name: z.string(),
  category: activityCategory,
  isActive: z.boolean().optional().default(true),
  isDefault: z.boolean().optional().default(false),
  lastUpdatedDateTime: dateTime.nullable().optional(),
});
export type ActivityTypeModel = z.infer<typeof activityTypeModel>;

/** UserOutputModel: the fields the sync uses. */
export const userOutputModel = z.object({
  guid: z.string().min(1),
  firstName: z.string(),
  lastName: z.string(),
  email: nullableString,
  code: nullableString,
  isActive: z.boolean().optional().default(true),
  defaultActivityType: z.object({ guid: z.string().nullable().optional(), name: nullableString }).nullable().optional(),
  timezone: z.object({ ianaName: nullableString, name: nullableString }).nullable().optional(),
  lastUpdatedDateTime: dateTime.nullable().optional(),
});
export type UserOutputModel = z.infer<typeof userOutputModel>;

export const PATCH_OPERATION_TYPES = ['Add', 'Copy', 'Move', 'Remove', 'Replace'] as const;
/** PatchOperation as the document spells it: `op` capitalised, `value` a string (or null). */
export interface PatchOperation {
  op: (typeof PATCH_OPERATION_TYPES)[number];
  path: string;
  value: string | null;
  from?: string | null;
}

export const publicAuthenticationOutputModel = z.object({
  access_token: z.string().min(1),
  access_token_expires_in: z.number().int().positive(),
  access_token_expires_utc: z.string().optional(),
  access_token_type: z.string().optional(),
  refresh_token: z.string().min(1).optional(),
  refresh_token_expires_in: z.number().int().optional(),
  refresh_token_expires_utc: z.string().optional(),
  scope: z.string().optional(),
});
export type PublicAuthenticationOutputModel = z.infer<typeof publicAuthenticationOutputModel>;

export const EXCEPTION_TYPES = [
  'InternalSystemError', 'AuthenticationRequired', 'AddonMissing', 'FeatureIsNotEnabled', 'InvalidParameter', 'InvalidOperation', 'InvalidRequest',
  'InsufficientApiScope', 'InvalidApiVersion', 'ConfigurationError', 'UserLicenseType', 'TermsOfServiceNotApproved', 'HttpsRequired',
  'OrganizationNotActive', 'PermissionDenied', 'TrialExpired', 'NotAvailableInTrial', 'InvalidRecaptcha', 'AddonMissingTermsOfServiceApproval',
] as const;

/** ErrorModel inside ExceptionModel ({ error: ... }). Lenient: an error body is read for its message only. */
export const errorModel = z.object({
  httpStatusCode: z.number().int().optional(),
  type: z.string().optional(),
  details: z.array(z.object({ message: z.string().nullable().optional() }).loose()).nullable().optional(),
});
export type ErrorModel = z.infer<typeof errorModel>;
export const exceptionModel = z.object({ error: errorModel.nullable().optional() });
