// Every value of the API's enums, typed from the spec, so a value the spec drops or renames
// fails tsc here, and the translation test can check each has a label.
import type { Schemas } from './api/client';

type Values<T extends string> = readonly T[];

export const KINDS: Values<Schemas['EventKind']> = ['lecture', 'seminar', 'round_table', 'training', 'meeting', 'contest', 'campaign', 'other'];
export const FORMATS: Values<Schemas['EventFormat']> = ['in_person', 'online', 'hybrid'];
export const AUDIENCES: Values<Schemas['Audience']> = ['youth', 'schoolchildren', 'students', 'civil_servants', 'entrepreneurs', 'general_public'];
export const STATUSES: Values<Schemas['EventStatus']> = ['planned', 'held', 'cancelled'];
export const BASES: Values<Schemas['AttendanceBasis']> = ['sign_in_sheet', 'headcount', 'estimate'];
export const ORGANISER_ROLES: Values<Schemas['OrganiserRole']> = ['speaker', 'moderator', 'organiser', 'other'];
export const ITEM_STATUSES: Values<Schemas['ItemStatus']> = ['done', 'open', 'overdue'];
export const ROLES: Values<Schemas['Role']> = ['admin', 'coordinator', 'organiser', 'viewer'];
export const GENDERS: Values<Schemas['Gender']> = ['male', 'female'];
export const SCOPES: Values<Schemas['Scope']> = ['events:read', 'events:write', 'attendees:read', 'attendees:write', 'reports:read', 'plans:write', 'audit:read', 'webhooks:manage', 'events:verify', 'admin'];
export const WEBHOOK_TYPES: Values<Schemas['EventType']> = [
  'event.created', 'event.updated', 'event.deleted', 'event.attendance_recorded', 'event.attendees_changed',
  'event.verified', 'plan.changed', 'plan_item.changed', 'department.changed', 'webhook.test',
];
export const FLAGS: Values<Schemas['Flag']> = ['attendance_above_planned', 'estimate_only', 'no_evidence', 'logged_late'];
export const VERIFICATIONS: Values<Schemas['VerificationStatus']> = ['unverified', 'verified', 'rejected'];
export const DECISIONS: Values<Schemas['Decision']> = ['verified', 'rejected'];
export const EVIDENCE_KINDS: Values<Schemas['EvidenceKind']> = ['photo', 'sign_in_sheet', 'programme', 'press', 'other'];
export const DEPARTMENT_KINDS: Values<Schemas['DepartmentKind']> = ['administration', 'unit'];
