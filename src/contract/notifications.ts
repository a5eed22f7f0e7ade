import { type Static, Type } from '@sinclair/typebox';
import { NullableString, NullableTimestamp, PageFields, Timestamp } from './common.js';

/** The inbox (03 §17, 08 §8, §9): a user's notifications with each channel's delivery status. */

export const NotificationSourceKindSchema = Type.Union([
  Type.Literal('alert'),
  Type.Literal('script'),
  Type.Literal('system'),
  Type.Literal('access_request'),
]);
export type NotificationSourceKind = Static<typeof NotificationSourceKindSchema>;

export const DeliveryStatusSchema = Type.Union(
  [Type.Literal('pending'), Type.Literal('sent'), Type.Literal('failed'), Type.Literal('skipped')],
  { description: '`skipped`: not wanted, not configured, no Telegram link, or no open socket' },
);

export const NotificationSchema = Type.Object({
  id: Type.String(),
  title: Type.String(),
  message: Type.String(),
  source_kind: NotificationSourceKindSchema,
  source_id: NullableString,
  created_at: Timestamp,
  read_at: NullableTimestamp,
  telegram_status: DeliveryStatusSchema,
  ws_status: DeliveryStatusSchema,
});
export type NotificationView = Static<typeof NotificationSchema>;

export const NotificationListSchema = Type.Object({
  items: Type.Array(NotificationSchema, { description: 'Newest first' }),
  unread_count: Type.Integer({ description: 'All unread notifications of the caller, on any page' }),
  ...PageFields,
});
export type NotificationList = Static<typeof NotificationListSchema>;

export const ReadAllResponseSchema = Type.Object({
  updated: Type.Integer({ description: 'How many unread notifications were marked read' }),
});
