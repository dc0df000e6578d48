#!/usr/bin/python3
"""Drives the EWS simulator with exchangelib (a real EWS client nobody on this project wrote).

Usage:
  /usr/bin/python3 drive_simulator.py <ews-url>              reads one JSON command per line on stdin
  /usr/bin/python3 drive_simulator.py <ews-url> '<json>' ... runs the given commands in order

Every command prints exactly one JSON line: {"step": ..., "ok": true, ...} or {"step": ..., "ok": false,
"error": "<exchangelib exception class>", "message": ...}. Nothing here writes SOAP by hand: every request is
exchangelib's own, so the simulator is checked against what a real client sends and parses.
"""
import datetime
import json
import sys
import time
import traceback

from exchangelib import (
    BASIC,
    DELEGATE,
    IMPERSONATION,
    NTLM,
    Account,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDate,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    HTMLBody,
)
from exchangelib.errors import EWSError, TransportError
from exchangelib.protocol import BaseProtocol, FailFast, FaultTolerance
from exchangelib.recurrence import NumberedPattern, Recurrence, WeeklyPattern

DOMAIN_TZ = EWSTimeZone("Europe/Helsinki")
UTC = EWSTimeZone("UTC")
SYNC_TAG_SET = "8b5e2f1c-3d4a-4c6b-9e7f-5a1d2c3b4e60"


class SeveraGuid(ExtendedProperty):
    """The tag a sync stamps on items it created (a named property in a private property set)."""

    property_set_id = SYNC_TAG_SET
    property_name = "SeveraGuid"
    property_type = "String"


CalendarItem.register("severa_guid", SeveraGuid)

_accounts = {}


def account_for(cmd):
    """An Account as exchangelib builds one: auth type and server version are guessed from the server itself."""
    auth = {"NTLM": NTLM, "BASIC": BASIC}[cmd.get("auth", "NTLM")]
    user = cmd.get("user", "CONTOSO\\svc-severa-sync")
    password = cmd.get("password", "demo-delegate-password")
    mailbox = cmd["mailbox"]
    access = IMPERSONATION if cmd.get("access", "impersonation") == "impersonation" else DELEGATE
    key = (auth, user, password, mailbox, access)
    if cmd.get("fresh"):
        # A new Account, as a new process would make: nothing cached (root folder, calendar) from earlier steps.
        _accounts.pop(key, None)
    if key not in _accounts:
        config = Configuration(
            service_endpoint=URL,
            credentials=Credentials(user, password),
            auth_type=auth if cmd.get("auth") == "BASIC" else None,  # NTLM is found by probing the 401
            retry_policy=FailFast(),
        )
        _accounts[key] = Account(mailbox, config=config, access_type=access, autodiscover=False, default_timezone=DOMAIN_TZ)
    return _accounts[key]


def iso(value):
    if value is None:
        return None
    if isinstance(value, EWSDate) or (isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)):
        return value.isoformat()
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ews_dt(text):
    """ISO 8601 text (an offset, Z, or local Helsinki time) as an EWSDateTime in Helsinki."""
    d = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    if d.tzinfo is None:
        return EWSDateTime(d.year, d.month, d.day, d.hour, d.minute, d.second, tzinfo=DOMAIN_TZ)
    u = d.astimezone(datetime.timezone.utc)
    return EWSDateTime(u.year, u.month, u.day, u.hour, u.minute, u.second, tzinfo=UTC).astimezone(DOMAIN_TZ)


def item_summary(item):
    return {
        "id": item.id,
        "changekey": item.changekey,
        "subject": item.subject,
        "start": iso(item.start),
        "end": iso(item.end),
        "type": item.type,
        "is_all_day": item.is_all_day,
        "sensitivity": item.sensitivity,
        "location": item.location,
        "uid": item.uid,
    }


def item_details(item):
    out = item_summary(item)
    out.update(
        {
            "body": str(item.body) if item.body is not None else None,
            "organizer": item.organizer.email_address if item.organizer else None,
            "required_attendees": sorted(a.mailbox.email_address for a in (item.required_attendees or [])),
            "severa_guid": item.severa_guid,
            "last_modified": iso(item.last_modified_time),
            "start_timezone": str(item._start_timezone) if item._start_timezone else None,
            "recurrence": str(item.recurrence) if item.recurrence else None,
            "modified_occurrences": [iso(o.original_start) for o in (item.modified_occurrences or [])],
            "deleted_occurrences": [iso(o.start) for o in (item.deleted_occurrences or [])],
        }
    )
    return out


# ------------------------------------------------------------------------------------------------------------------
# Steps


def step_login(cmd):
    acc = account_for(cmd)
    cal = acc.calendar
    count = cal.all().count()
    return {
        "auth_type": acc.protocol.auth_type,
        "api_version": acc.version.api_version,
        "build": str(acc.version.build),
        "calendar": cal.name,
        "item_count": count,
    }


def step_resolve(cmd):
    acc = account_for(cmd)
    found = acc.protocol.resolve_names([cmd["name"]], return_full_contact_data=False)
    return {"resolved": [m.email_address for m in found if hasattr(m, "email_address")]}


def step_create(cmd):
    acc = account_for(cmd)
    item = CalendarItem(
        account=acc,
        folder=acc.calendar,
        subject=cmd["subject"],
        start=ews_dt(cmd["start"]),
        end=ews_dt(cmd["end"]),
        location=cmd.get("location"),
        body=HTMLBody(cmd["html"]) if cmd.get("html") else cmd.get("body"),
        sensitivity=cmd.get("sensitivity", "Normal"),
    )
    if cmd.get("severa_guid"):
        item.severa_guid = cmd["severa_guid"]
    if cmd.get("attendees"):
        item.required_attendees = cmd["attendees"]
    item.save(send_meeting_invitations=cmd.get("send", "SendToNone"))
    return {"id": item.id, "changekey": item.changekey}


def fetched(item):
    """exchangelib hands back a per-item EWS error as the result instead of raising it."""
    if isinstance(item, Exception):
        raise item
    return item


def step_get(cmd):
    acc = account_for(cmd)
    item = fetched(acc.calendar.get(id=cmd["id"]))
    return {"item": item_details(item)}


def step_find_by_tag(cmd):
    acc = account_for(cmd)
    items = list(acc.calendar.filter(severa_guid=cmd["severa_guid"]))
    return {"items": [item_summary(i) for i in items]}


def step_update(cmd):
    acc = account_for(cmd)
    item = CalendarItem(account=acc, folder=acc.calendar, id=cmd["id"], changekey=cmd["changekey"])
    fields = []
    for name, value in cmd["fields"].items():
        if name in ("start", "end"):
            value = ews_dt(value)
        setattr(item, name, value)
        fields.append(name)
    item.save(update_fields=fields, conflict_resolution=cmd.get("conflict", "AutoResolve"), send_meeting_invitations="SendToNone")
    return {"id": item.id, "changekey": item.changekey}


def step_delete(cmd):
    acc = account_for(cmd)
    item = CalendarItem(account=acc, folder=acc.calendar, id=cmd["id"], changekey=cmd.get("changekey"))
    mode = cmd.get("mode", "move")
    if mode == "move":
        item.move_to_trash(send_meeting_cancellations="SendToNone")
    elif mode == "soft":
        item.soft_delete(send_meeting_cancellations="SendToNone")
    else:
        item.delete(send_meeting_cancellations="SendToNone")
    return {}


def step_view(cmd):
    acc = account_for(cmd)
    start, end = ews_dt(cmd["start"]), ews_dt(cmd["end"])
    items = [item_summary(i) for i in acc.calendar.view(start=start, end=end)]
    if cmd.get("subject_prefix"):
        items = [i for i in items if (i["subject"] or "").startswith(cmd["subject_prefix"])]
    return {"items": items}


def step_series(cmd):
    """A weekly series made by exchangelib, then one occurrence changed and one deleted through OccurrenceItemId."""
    acc = account_for(cmd)
    first = ews_dt(cmd["start"])
    master = CalendarItem(
        account=acc,
        folder=acc.calendar,
        subject=cmd["subject"],
        start=first,
        end=first + datetime.timedelta(minutes=30),
        recurrence=Recurrence(pattern=WeeklyPattern(interval=1, weekdays=[first.isoweekday()], first_day_of_week=1), start=first.date(), number=cmd.get("count", 6)),
    )
    master.save(send_meeting_invitations="SendToNone")
    occ = master.occurrence(index=2)
    occ.refresh()
    original = iso(occ.start)
    occ.subject = cmd["subject"] + " (moved)"
    occ.start = occ.start + datetime.timedelta(hours=1)
    occ.end = occ.end + datetime.timedelta(hours=1)
    occ.save(update_fields=["subject", "start", "end"], send_meeting_invitations="SendToNone")
    gone = master.occurrence(index=3)
    gone.refresh()
    gone_start = iso(gone.start)
    gone.delete(send_meeting_cancellations="SendToNone")
    master.refresh()
    return {"master": item_details(master), "moved_original_start": original, "deleted_start": gone_start}


def step_sync(cmd):
    acc = account_for(cmd)
    folder = acc.calendar
    folder.item_sync_state = cmd.get("state")
    changes = {"create": [], "update": [], "delete": [], "read_flag_change": []}
    pages = 0
    for change_type, item in folder.sync_items(sync_state=cmd.get("state"), max_changes_returned=cmd.get("max", 512)):
        key = change_type.lower() if isinstance(change_type, str) else str(change_type)
        if key == "delete":
            changes["delete"].append(item.id if hasattr(item, "id") else item)
        else:
            changes.setdefault(key, []).append({"id": item.id, "subject": getattr(item, "subject", None)})
    return {"state": folder.item_sync_state, "changes": changes}


def step_server_busy(cmd):
    """One request meets ErrorServerBusy: FailFast raises it with the back-off; FaultTolerance waits and retries."""
    acc = account_for(cmd)
    acc.calendar  # set up the folder first, so the fault meets the GetItem
    # Protocols are shared per endpoint and credentials, so the policy is swapped in for this step only.
    config = acc.protocol.config
    previous = config.retry_policy
    config.retry_policy = FaultTolerance(max_wait=30) if cmd.get("policy") == "tolerant" else FailFast()
    try:
        t0 = time.monotonic()
        item = fetched(acc.calendar.get(id=cmd["id"]))
        return {"subject": item.subject, "elapsed_s": round(time.monotonic() - t0, 3)}
    finally:
        config.retry_policy = previous


def event_summary(event):
    """One notification event as exchangelib parsed it: its class and the ids it carries."""
    out = {"type": type(event).__name__}
    for name in ("item_id", "folder_id", "parent_folder_id", "old_item_id", "old_parent_folder_id"):
        value = getattr(event, name, None)
        if value is not None:
            out[name] = value.id
    timestamp = getattr(event, "timestamp", None)
    if timestamp is not None:
        out["timestamp"] = iso(timestamp)
    return out


def step_subscribe(cmd):
    """A streaming subscription on the calendar (exchangelib adds X-AnchorMailbox and X-PreferServerAffinity)."""
    acc = account_for(cmd)
    subscription_id = acc.calendar.subscribe_to_streaming(event_types=cmd.get("event_types") or None)
    return {"subscription_id": subscription_id, "affinity_cookie": acc.affinity_cookie}


def step_stream(cmd):
    """GetStreamingEvents until `max` notifications came, or the server closed the connection at its timeout."""
    acc = account_for(cmd)
    ids = cmd["subscription_ids"]
    notifications = []
    started = time.monotonic()
    for notification in acc.calendar.get_streaming_events(ids, connection_timeout=cmd.get("timeout", 1), max_notifications_returned=cmd.get("max")):
        fetched(notification)
        notifications.append({"subscription_id": notification.subscription_id, "events": [event_summary(e) for e in notification.events]})
    return {"notifications": notifications, "seconds": round(time.monotonic() - started, 2)}


def step_unsubscribe(cmd):
    acc = account_for(cmd)
    acc.calendar.unsubscribe(cmd["subscription_id"])
    return {}


STEPS = {
    "login": step_login,
    "resolve": step_resolve,
    "create": step_create,
    "get": step_get,
    "find_by_tag": step_find_by_tag,
    "update": step_update,
    "delete": step_delete,
    "view": step_view,
    "series": step_series,
    "sync": step_sync,
    "server_busy": step_server_busy,
    "subscribe": step_subscribe,
    "stream": step_stream,
    "unsubscribe": step_unsubscribe,
}


def run(cmd):
    step = cmd.get("step")
    try:
        result = STEPS[step](cmd)
        return dict({"step": step, "ok": True}, **result)
    except KeyError as e:
        if step not in STEPS:
            return {"step": step, "ok": False, "error": "UnknownStep", "message": f"unknown step {step!r}"}
        return {"step": step, "ok": False, "error": "KeyError", "message": str(e), "trace": traceback.format_exc()}
    except Exception as e:  # each step reports its failure and the run goes on
        out = {"step": step, "ok": False, "error": type(e).__name__, "message": str(e)}
        back_off = getattr(e, "back_off", None)
        if back_off is not None:
            out["back_off"] = back_off
        if not isinstance(e, (EWSError, TransportError)):
            out["trace"] = traceback.format_exc()
        return out


def main():
    global URL
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    URL = sys.argv[1]
    # The simulator is plain HTTP on loopback; exchangelib's defaults are for the real world.
    BaseProtocol.TIMEOUT = 30
    commands = sys.argv[2:]
    source = (json.loads(c) for c in commands) if commands else (json.loads(line) for line in sys.stdin if line.strip())
    for cmd in source:
        print(json.dumps(run(cmd), default=str), flush=True)


URL = ""

if __name__ == "__main__":
    main()
