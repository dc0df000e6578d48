import { fields } from './fake-calendar.ts';
import { AINO, at, MIKKO, TYPE, type World } from './demo-world.ts';

/** Two activities in Severa (Aino's) and an entry in each of two calendars (Aino's and Mikko's), for the safety tests. */
export function seedBothSides(w: World) {
  const keep = w.severa.userCreate({ name: 'Severa A', startDateTime: at(1, '09:00'), endDateTime: at(1, '10:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
  const del = w.severa.userCreate({ name: 'Severa B', startDateTime: at(1, '11:00'), endDateTime: at(1, '12:00'), activityType: { guid: TYPE.meeting }, ownerUser: { guid: AINO.guid } });
  const x = w.calendar.userCreate(AINO.email, fields({ subject: 'Exchange C', start: at(2, '09:00'), end: at(2, '10:00') }));
  const y = w.calendar.userCreate(MIKKO.email, fields({ subject: 'Exchange D', start: at(2, '11:00'), end: at(2, '12:00') }));
  return { keep, del, x, y };
}
