"""A deterministic Iterable project: every object the emulator serves, in Iterable's raw formats.

REST timestamps take the type Iterable's API definition (iterable-api-swagger.json) gives them: ISO-8601 strings
for snippets (SnippetResponse), catalog items (CatalogItemWithProperties.lastModified) and templates
(ApiTemplateResponse), epoch milliseconds elsewhere (campaigns, lists, message types, journeys, metadata). Real
accounts send templates' createdAt/updatedAt as epoch milliseconds, so `template_times` picks that form instead.
Export records carry `yyyy-MM-dd HH:mm:ss +00:00` strings (a few in the malformed fractional form Iterable has been
seen to send). Everything falls inside 2025 (UTC).

Export events are not stored: `events[dataTypeName]` is an `EventTable`, a read-only sequence whose i-th record is
computed from (seed, type, i) and whose `createdAt` grows with i. A window maps to an index range by bisection, so
a million-record type costs nothing until it is read and is streamed without being held in memory.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import random
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import Any

from . import template_content

EXPORT_START = datetime(2025, 1, 1, tzinfo=timezone.utc)
EXPORT_END = datetime(2026, 1, 1, tzinfo=timezone.utc)
# Campaigns that are still sending have metrics up to this day (exclusive).
ACTIVITY_END = EXPORT_END.date()
_SPAN_SECONDS = int((EXPORT_END - EXPORT_START).total_seconds())

SCALES = {"small": 1, "medium": 10, "large": 100}
PROJECT_TYPES = ("email", "userId", "hybrid")

TEMPLATE_TYPES = ("Base", "Blast", "Triggered", "Workflow")
MESSAGE_MEDIUMS = ("Email", "Push", "InApp", "SMS")
# Combinations with no templates, so a connector meets empty pages.
EMPTY_TEMPLATE_COMBOS = frozenset({("Base", "SMS"), ("Blast", "InApp"), ("Workflow", "Push")})

# The steps a campaign takes without anyone editing it (advance_campaign).
_NEXT_CAMPAIGN_STATE = {
    "Draft": "Ready",
    "Ready": "Scheduled",
    "Scheduled": "Running",
    "Starting": "Running",
    "Running": "Finished",
    "Recalling": "Recalled",
}

CAMPAIGN_STATES = (
    "Draft",
    "Ready",
    "Scheduled",
    "Running",
    "Finished",
    "Starting",
    "Aborted",
    "Recurring",
    "Archived",
    "Recalling",
    "Recalled",
    "Finished",
)

# Every export dataTypeName (iterable-api.md) with the family that decides its extra fields.
DATA_TYPES: dict[str, str] = {
    "emailSend": "send",
    "emailOpen": "email_open",
    "emailClick": "email_click",
    "hostedUnsubscribeClick": "email_click",
    "emailComplaint": "email_bounce",
    "emailBounce": "email_bounce",
    "emailSendSkip": "skip",
    "emailSubscribe": "subscription",
    "emailUnSubscribe": "subscription",
    "pushSend": "send",
    "pushOpen": "push",
    "pushUninstall": "push",
    "pushBounce": "push_bounce",
    "pushSendSkip": "skip",
    "inAppSend": "send",
    "inAppOpen": "in_app",
    "inAppClick": "in_app_click",
    "inAppClose": "in_app_close",
    "inAppDelete": "in_app_delete",
    "inAppDelivery": "in_app",
    "inAppSendSkip": "skip",
    "inAppRecall": "in_app",
    "inboxSession": "inbox_session",
    "inboxMessageImpression": "inbox_impression",
    "smsSend": "sms_send",
    "smsBounce": "sms_bounce",
    "smsClick": "sms_click",
    "smsReceived": "sms_received",
    "smsSendSkip": "skip",
    "smsUsageInfo": "sms_usage",
    "webPushSend": "send",
    "webPushClick": "web_push_click",
    "webPushSendSkip": "skip",
    "rcsSend": "sms_send",
    "rcsSendSkip": "skip",
    "embeddedSend": "embedded",
    "embeddedSendSkip": "skip",
    "embeddedClick": "embedded_click",
    "embeddedReceived": "embedded",
    "embeddedImpression": "embedded_impression",
    "embeddedSession": "embedded_session",
    "journeyExit": "journey_exit",
    "whatsAppSend": "sms_send",
    "whatsAppSendSkip": "skip",
    "whatsAppBounce": "sms_bounce",
    "whatsAppClick": "sms_click",
    "whatsAppReceived": "sms_received",
    "whatsAppSeen": "sms_send",
    "whatsAppUsageInfo": "sms_usage",
    "purchase": "purchase",
    "customEvent": "custom_event",
    "unknownSession": "unknown_session",
}
# Spellings the export API also accepts for a type (both are seen in the wild).
DATA_TYPE_ALIASES = {"emailUnsubscribe": "emailUnSubscribe"}
USER_DATA_TYPE = "user"

# A few events per type by default; the busiest types a few more.
DEFAULT_EVENTS_PER_TYPE = 6
BUSY_TYPES = {"emailSend": 12, "emailOpen": 10, "emailClick": 8, "purchase": 8, "customEvent": 10}

# users/getFields: every path a user record can carry, with its Iterable type.
USER_FIELD_TYPES: dict[str, str] = {
    "email": "string",
    "userId": "string",
    "signupDate": "date",
    "profileUpdatedAt": "date",
    "itblInternal": "object",
    "itblInternal.documentCreatedAt": "date",
    "itblInternal.documentUpdatedAt": "date",
    "itblInternal.emailDomain": "string",
    "itblInternal.phoneCountry": "string",
    "itblInternal.phoneType": "string",
    "itblInternal.isUnknownUser": "boolean",
    "ip": "string",
    "devices": "nested",
    "devices.token": "string",
    "devices.platform": "string",
    "devices.applicationName": "string",
    "devices.endpointEnabled": "boolean",
    "devices.notificationsEnabled": "boolean",
    "devices.dataFields": "object",
    "devices.dataFields.appBuild": "string",
    "itblDS": "object",
    "itblDS.predictedPurchaseLikelihood": "double",
    "emailListIds": "long",
    "firstName": "string",
    "lastName": "string",
    "phoneNumber": "string",
    "loyaltyPoints": "long",
    "lifetimeValue": "double",
    "isVip": "boolean",
    "lastPurchaseDate": "date",
    "preferences": "object",
    "preferences.newsletter": "boolean",
    "preferences.channel": "string",
    "address": "object",
    "address.city": "string",
    "address.postalCode": "string",
    "location": "geo_location",
    "orders": "nested",
    "orders.orderId": "string",
    "orders.amount": "double",
    "Industry": "string",
    "industry": "string",
    "offers": "object",
    "offers.Intro APR": "double",
    "offers.intro APR": "string",
}
HYBRID_USER_FIELD_TYPES = {"itblUserId": "string"}

# catalogs/{name}/fieldMappings' definedMappings: the types set for some fields of each catalog's items.
CATALOG_FIELD_TYPES: dict[str, dict[str, str]] = {
    "products": {"name": "string", "price": "double"},
    "stores": {"city": "string", "location": "geo_location"},
}

METRIC_COLUMNS = (
    "id",
    "Average Order Value",
    "Purchases",
    "Revenue",
    "Total Email Sends",
    "Unique Email Opens (filtered)",
    "Total Email Opens",
    "Unique Email Clicks",
    "Total Email Bounced",
    "Total Unsubscribes",
    "Purchases / M (Email)",
    "Total Push Sends",
    "Total SMS Sent",
    "Total In-App Sent",
    "Total Web Push Send",
)

# experiments/metrics: Iterable's definition (ExperimentMetricsResponse) gives the body only as a CSV header and rows;
# these are the columns Iterable's documentation lists (ids, name, type, dates, improvement, confidence, metrics).
EXPERIMENT_COLUMNS = (
    "campaignId",
    "experimentId",
    "templateId",
    "name",
    "type",
    "creationDate",
    "lastModified",
    "improvement",
    "confidence",
    "Total Email Sends",
    "Unique Email Opens (filtered)",
    "Unique Email Clicks",
    "Total Unsubscribes",
    "Purchases",
    "Revenue",
)
EXPERIMENT_TYPES = ("SubjectLine", "FromNameAndSender", "EmailBody")

_CITIES = ("Berlin", "Lisbon", "Austin", "Osaka", "Toronto", "Nairobi")
_FIRST = ("Ada", "Grace", "Linus", "Margaret", "Alan", "Barbara", "Ken", "Frances", "Edsger", "Radia")
_LAST = ("Lovelace", "Hopper", "Torvalds", "Hamilton", "Turing", "Liskov", "Thompson", "Allen", "Dijkstra")
_INDUSTRIES = ("Retail", "Finance", "Travel", "Media")
_PLATFORMS = ("iOS", "Android")
_SKIP_REASONS = ("DuplicateMarketingMessage", "FrequencyCapped", "MessageTypeUnsubscribed", "UserProfileMissing")
_EVENT_NAMES = ("viewedProduct", "addedToCart", "startedCheckout", "appInstalled")
_MASK = (1 << 64) - 1


def forget_hash(identifier: str) -> str:
    """How Iterable keeps a forgotten email or userId (users/forgotten, users/forgottenUserIds): SHA-256, hex, of the
    lowercased, trimmed value."""
    return hashlib.sha256(identifier.strip().lower().encode()).hexdigest()


def iterable_time(moment: datetime) -> str:
    """Format a UTC moment the way the export API writes timestamps: `2025-03-04 05:06:07 +00:00`."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S +00:00")


def epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def iso_time(moment: datetime) -> str:
    """Format a UTC moment as ISO-8601 the way the JVM prints an instant: `2025-03-04T05:06:07.250Z` (no fraction
    when it is zero)."""
    text = moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    millis = moment.microsecond // 1000
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def instant(value: int | str) -> datetime:
    """The moment of a REST timestamp in either form the emulator serves (epoch ms or `iso_time`)."""
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, timezone.utc)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


TEMPLATE_TIME_FORMS = ("date-time", "epoch_ms")


def _mix(*values: int) -> int:
    """A cheap deterministic 64-bit hash (splitmix64 over the values)."""
    state = 0x243F6A8885A308D3
    for value in values:
        state = (state ^ (value & _MASK)) * 0x9E3779B97F4A7C15 & _MASK
        state ^= state >> 31
        state = state * 0xBF58476D1CE4E5B9 & _MASK
        state ^= state >> 27
    return state


def _stable_number(text: str) -> int:
    return sum((ord(char) * 131**position) for position, char in enumerate(text)) & _MASK


class EventTable(Sequence):
    """The export records of one dataTypeName, computed on demand; `createdAt` grows with the index."""

    def __init__(self, dataset: Dataset, data_type: str, count: int) -> None:
        self._dataset = dataset
        self.data_type = data_type
        self.family = DATA_TYPES[data_type]
        self._salt = _mix(dataset.seed, _stable_number(data_type))
        self._count = count

    def __len__(self) -> int:
        return self._count

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(index)
        return self._record(index)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self._record(i) for i in range(self._count))

    def created_second(self, index: int) -> int:
        """Seconds since EXPORT_START of record `index`; non-decreasing in `index`."""
        fraction = _mix(self._salt, index, 1) % 1000
        return (index * 1000 + fraction) * _SPAN_SECONDS // (self._count * 1000)

    def index_range(self, start: datetime, end: datetime) -> range:
        """Indexes of the records with start <= createdAt < end."""
        start_second = int((start - EXPORT_START).total_seconds())
        end_second = int((end - EXPORT_START).total_seconds())
        keys = _SecondsView(self)
        return range(bisect.bisect_left(keys, start_second), bisect.bisect_left(keys, end_second))

    def _record(self, index: int) -> dict[str, Any]:
        ds = self._dataset
        h = _mix(self._salt, index, 2)
        created = EXPORT_START + timedelta(seconds=self.created_second(index))
        user = ds.users[h % len(ds.users)]
        campaign = ds.campaigns[(h >> 8) % len(ds.campaigns)]
        record: dict[str, Any] = {"createdAt": _created_text(created, h, index)}
        if "email" in user:
            record["email"] = user["email"]
        if "userId" in user:
            record["userId"] = user["userId"]
        if "itblUserId" in user:
            record["itblUserId"] = user["itblUserId"]
        if self.family not in ("purchase", "custom_event", "subscription", "sms_received", "unknown_session"):
            record.update(
                campaignId=campaign["id"],
                templateId=campaign["templateId"],
                messageId=f"{h:016x}{index:08x}",
                contentId=(h >> 12) % 9000 + 1000,
                messageTypeId=ds.message_types[(h >> 16) % len(ds.message_types)]["id"],
                channelId=ds.channels[(h >> 20) % len(ds.channels)]["id"],
            )
            if campaign.get("workflowId"):
                record["workflowId"] = campaign["workflowId"]
        _FAMILY_FIELDS[self.family](record, h, index, ds)
        if self.data_type == "emailSubscribe":
            record["signupSource"] = ("API", "Import", "WebForm")[h % 3]
            record["profileUpdatedAt"] = record["createdAt"]
        return record


class _SecondsView(Sequence):
    def __init__(self, table: EventTable) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, index):  # type: ignore[override]
        return self._table.created_second(index)


def _created_text(created: datetime, h: int, index: int) -> str:
    if index % 7 == 3 and h % 2 == 0:
        # The malformed fractional form seen in real exports.
        return created.strftime("%Y-%m-%d %H:%M:%S") + f".{h % 1000000:06d}.000Z"
    return iterable_time(created)


def _send(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["messageBusId"] = f"mb-{h % 100000:05d}"
    record["locale"] = None if h % 5 else "en-US"
    record["catalogCollectionCount"] = 0
    record["catalogLookupCount"] = h % 3
    record["productRecommendationCount"] = 0
    if index % 3 == 0:
        record["transactionalData"] = json.dumps(
            {"orderId": f"ord-{h % 9999:04d}", "items": [{"sku": f"sku-{h % 97}", "qty": 1 + h % 3}]},
            separators=(",", ":"),
        )


def _web_context(record: dict, h: int) -> None:
    record["city"] = _CITIES[h % len(_CITIES)]
    record["country"] = "US" if h % 2 else "DE"
    record["region"] = "TX" if h % 2 else "BE"
    record["ip"] = f"203.0.113.{h % 250 + 1}"
    record["userAgent"] = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"
    record["userAgentDevice"] = "iPhone" if h % 2 else "Desktop"


def _email_open(record: dict, h: int, index: int, ds: Dataset) -> None:
    _web_context(record, h)
    record["proxySource"] = "Apple" if h % 4 == 0 else None


def _email_click(record: dict, h: int, index: int, ds: Dataset) -> None:
    _web_context(record, h)
    record["url"] = f"https://shop.example.com/p/{h % 500}?utm_source=iterable"
    record["href"] = record["url"]
    record["linkId"] = f"link-{h % 20}"
    record["linkUrl"] = record["url"]
    record["hrefIndex"] = h % 4


def _email_bounce(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["recipientState"] = "HardBounce" if h % 2 else "SoftBounce"
    record["emailSubject"] = f"Spring sale #{h % 40}"


def _skip(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["reason"] = _SKIP_REASONS[h % len(_SKIP_REASONS)]
    if index % 3 == 0:
        record["transactionalData"] = json.dumps({"orderId": f"ord-{h % 9999:04d}"}, separators=(",", ":"))


def _subscription(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["emailListIds"] = [ds.lists[h % len(ds.lists)]["id"]]
    record["emailListId"] = record["emailListIds"][0]
    record["channelIds"] = [ds.channels[h % len(ds.channels)]["id"]]
    record["messageTypeIds"] = []
    record["unsubSource"] = ("EmailLink", "HostedPage", "API")[h % 3]
    record["campaignId"] = ds.campaigns[(h >> 8) % len(ds.campaigns)]["id"]


def _device(h: int) -> dict[str, str]:
    return {"deviceId": f"dev-{h % 10000:04d}", "platform": _PLATFORMS[h % 2], "appPackageName": "com.example.app"}


def _push(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["platform"] = _PLATFORMS[h % 2]
    record["appAlreadyRunning"] = bool(h % 2)
    record["deviceInfo"] = _device(h)


def _push_bounce(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["platformEndpoint"] = f"arn:aws:sns:us-east-1:000000000000:endpoint/APNS/app/{h % 1000}"
    record["reason"] = "DeviceTokenNotRegistered"


def _in_app(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["messageContext"] = {"saveToInbox": bool(h % 2), "trigger": "immediate"}
    record["deviceInfo"] = _device(h)


def _in_app_click(record: dict, h: int, index: int, ds: Dataset) -> None:
    _in_app(record, h, index, ds)
    record["clickedUrl"] = f"https://shop.example.com/in-app/{h % 50}"


def _in_app_close(record: dict, h: int, index: int, ds: Dataset) -> None:
    _in_app(record, h, index, ds)
    record["closeAction"] = ("back", "link", "other")[h % 3]
    record["inboxSessionId"] = f"inbox-{h % 777}"


def _in_app_delete(record: dict, h: int, index: int, ds: Dataset) -> None:
    _in_app(record, h, index, ds)
    record["deleteAction"] = "inbox-swipe" if h % 2 else "delete-button"


def _inbox_session(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["inboxSessionId"] = f"inbox-{h % 777}"
    record["startTotalMessageCount"] = h % 9
    record["endTotalMessageCount"] = h % 7
    record["impressions"] = [{"messageId": record["messageId"], "displayCount": 1 + h % 3, "displayDuration": 2.5}]
    record["deviceInfo"] = _device(h)


def _inbox_impression(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["impressionCount"] = 1 + h % 4
    record["totalDuration"] = float(h % 60)


def _phone(h: int) -> str:
    return f"+1555{h % 10000000:07d}"


def _sms_send(record: dict, h: int, index: int, ds: Dataset) -> None:
    _send(record, h, index, ds)
    record["toPhoneNumber"] = _phone(h)
    record["fromPhoneNumber"] = "+15550000001"
    record["smsMessage"] = f"Your code is {h % 1000000:06d}"


def _sms_bounce(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["toPhoneNumber"] = _phone(h)
    record["errorCode"] = 30003 + h % 3
    record["errorMessage"] = "Unreachable destination handset"


def _sms_click(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["toPhoneNumber"] = _phone(h)
    record["url"] = f"https://ex.co/{h % 999}"


def _sms_received(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["fromPhoneNumber"] = _phone(h)
    record["toPhoneNumber"] = "+15550000001"
    record["smsMessage"] = ("STOP", "HELP", "YES")[h % 3]


def _sms_usage(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["toPhoneNumber"] = _phone(h)
    record["numberOfSegments"] = 1 + h % 3
    record["creditsUsed"] = round(0.0079 * (1 + h % 3), 4)
    record["countryCode"] = "US"


def _web_push_click(record: dict, h: int, index: int, ds: Dataset) -> None:
    _web_context(record, h)
    record["url"] = f"https://shop.example.com/web-push/{h % 50}"


def _embedded(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["placementId"] = 100 + h % 5
    record["deviceInfo"] = _device(h)


def _embedded_click(record: dict, h: int, index: int, ds: Dataset) -> None:
    _embedded(record, h, index, ds)
    record["buttonIdentifier"] = f"button-{h % 2}"
    record["targetUrl"] = f"https://shop.example.com/embedded/{h % 50}"


def _embedded_impression(record: dict, h: int, index: int, ds: Dataset) -> None:
    _embedded(record, h, index, ds)
    record["displayCount"] = 1 + h % 5
    record["displayDuration"] = float(h % 30)


def _embedded_session(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["deviceInfo"] = _device(h)
    record["embeddedSessionId"] = f"emb-{h % 9999}"
    record["embeddedSessionStart"] = record["createdAt"]
    record["impressions"] = [{"messageId": record["messageId"], "placementId": 100 + h % 5, "displayCount": 1}]


def _journey_exit(record: dict, h: int, index: int, ds: Dataset) -> None:
    journey = ds.journeys[h % len(ds.journeys)]
    record["workflowId"] = journey["id"]
    record["workflowName"] = journey["name"]
    record["exitReason"] = ("Completed", "ExitedByRule", "JourneyDeactivated")[h % 3]


def _purchase(record: dict, h: int, index: int, ds: Dataset) -> None:
    quantity = 1 + h % 3
    price = round(5 + (h % 9000) / 100, 2)
    record["id"] = f"purchase-{h % 1000000:06d}-{index}"
    record["items"] = [
        {
            "id": f"sku-{h % 97}",
            "sku": f"sku-{h % 97}",
            "name": f"Product {h % 97}",
            "price": price,
            "quantity": quantity,
            "categories": ["shoes"],
            "dataFields": {"color": "red"},
        },
    ]
    record["total"] = round(price * quantity, 2)
    _attribution(record, h, index, ds)
    record["dataFields"] = {"coupon": "SPRING" if h % 3 == 0 else None}


def _custom_event(record: dict, h: int, index: int, ds: Dataset) -> None:
    record["eventName"] = _EVENT_NAMES[h % len(_EVENT_NAMES)]
    record["eventUpdatedAt"] = record["createdAt"]
    record["dataFields"] = {
        "productId": f"sku-{h % 97}",
        "price": round((h % 10000) / 100, 2),
        "tags": ["a", "b"][: 1 + h % 2],
        "context": {"screen": "home"},
    }
    _attribution(record, h, index, ds)


def _unknown_session(record: dict, h: int, index: int, ds: Dataset) -> None:
    """A session of an unknown user (Unknown User Activation). The definition only names the type: these are the
    fields Iterable's SDKs send when such a session starts (anonSessionContext times in epoch milliseconds)."""
    first = epoch_ms(EXPORT_START) + h % (86_400_000 * 300)
    record["deviceInfo"] = _device(h)
    record["anonSessionContext"] = {
        "totalAnonSessionCount": 1 + h % 9,
        "firstAnonSession": first,
        "lastAnonSession": first + (h >> 20) % 86_400_000,
        "matchedCriteriaId": 100 + h % 4,
        "lastPage": f"/products/sku-{h % 97}",
    }


def _attribution(record: dict, h: int, index: int, ds: Dataset) -> None:
    """A purchase or custom event tracked from a message's link carries the message's attribution; others none."""
    if h % 3:
        record["campaignId"] = None
        record["templateId"] = None
        return
    campaign = ds.campaigns[(h >> 8) % len(ds.campaigns)]
    record["campaignId"] = campaign["id"]
    record["templateId"] = campaign["templateId"]
    record["messageId"] = f"{h:016x}{index:08x}"
    record["contentId"] = (h >> 12) % 9000 + 1000


_FAMILY_FIELDS = {
    "send": _send,
    "email_open": _email_open,
    "email_click": _email_click,
    "email_bounce": _email_bounce,
    "skip": _skip,
    "subscription": _subscription,
    "push": _push,
    "push_bounce": _push_bounce,
    "in_app": _in_app,
    "in_app_click": _in_app_click,
    "in_app_close": _in_app_close,
    "in_app_delete": _in_app_delete,
    "inbox_session": _inbox_session,
    "inbox_impression": _inbox_impression,
    "sms_send": _sms_send,
    "sms_bounce": _sms_bounce,
    "sms_click": _sms_click,
    "sms_received": _sms_received,
    "sms_usage": _sms_usage,
    "web_push_click": _web_push_click,
    "embedded": _embedded,
    "embedded_click": _embedded_click,
    "embedded_impression": _embedded_impression,
    "embedded_session": _embedded_session,
    "journey_exit": _journey_exit,
    "purchase": _purchase,
    "custom_event": _custom_event,
    "unknown_session": _unknown_session,
}


class Dataset:
    """One Iterable project's data, fully determined by `seed`, `scale`, `project_type` and the event counts.

    scale: "small" (default), "medium", "large" or an integer multiplier of the small sizes.
    events_per_type: an int for every type, or {dataTypeName: count} overriding the defaults for some types
      (e.g. {"emailSend": 1_000_000} for a benchmark: records are computed on demand, never stored).
    users: the number of user profiles (default 30 x scale).
    campaigns: None => 12 x scale campaigns cycling through every campaign state; a number => an account's
      history of that many campaigns: `active_campaigns` of them running, recurring, scheduled or starting, the
      others finished (one in 50 a draft) with `endedAt` spread evenly over the 5 years before 2026-01-01.
    campaign_id_digits: campaign ids of that many digits (19: the longest Iterable sends) instead of 500001, ….
    project_type: "email" (every user has an email), "userId" (every user has a userId) or "hybrid"
      (every user has an itblUserId; emails and userIds are optional).
    campaigns: the number of campaigns (default 12 x scale).
    template_times: how templates carry createdAt/updatedAt: "date-time" (ISO-8601 strings, Iterable's API
      definition) or "epoch_ms" (what real accounts send).
    template_count: None => a few templates per template type and medium (the small data set); a number => an
      account's history of that many templates, spread evenly over the four template types and five media
      (embedded ones included), without random draws (fast at 10,000).
    """

    def __init__(
        self,
        seed: int = 7,
        scale: str | int = "small",
        events_per_type: int | Mapping[str, int] | None = None,
        users: int | None = None,
        project_type: str = "email",
        campaigns: int | None = None,
        template_times: str = "date-time",
        active_campaigns: int = 200,
        campaign_id_digits: int | None = None,
        template_count: int | None = None,
    ) -> None:
        if project_type not in PROJECT_TYPES:
            raise ValueError(f"project_type must be one of {PROJECT_TYPES}, got {project_type!r}")
        if template_times not in TEMPLATE_TIME_FORMS:
            raise ValueError(f"template_times must be one of {TEMPLATE_TIME_FORMS}, got {template_times!r}")
        self.template_times = template_times
        factor = SCALES[scale] if isinstance(scale, str) else int(scale)
        self.seed = seed
        self.scale = factor
        self.project_type = project_type
        rng = random.Random(seed)
        self.channels = self._make_channels()
        self.message_types = self._make_message_types(rng)
        self.lists = self._make_lists(rng, 4 * factor)
        self.templates = self._make_templates(rng, factor)
        # Embedded templates: listed with messageMedium=Embedded (or no medium); built after the campaigns, which
        # pick their templates from the four media of `templates`, so that campaigns and events stay as they were.
        self.embedded_templates: list[dict[str, Any]] = []
        if template_count is not None:
            self.templates, self.embedded_templates = self._make_template_history(template_count)
        self._campaign_id_base = 10 ** (campaign_id_digits - 1) if campaign_id_digits else 500001
        if campaigns is None:
            self.campaigns = self._make_campaigns(rng, 12 * factor)
        else:
            self.campaigns = self._make_campaign_history(campaigns, active_campaigns)
        self._campaign_index = {campaign["id"]: i for i, campaign in enumerate(self.campaigns)}
        if template_count is None:
            self.embedded_templates = self._make_embedded_templates(factor)
        self._template_index = {t["templateId"]: t for t in (*self.templates, *self.embedded_templates)}
        self._template_revisions: dict[int, int] = {}
        self.journeys = self._make_journeys(rng, 60 * factor)
        self.snippets = self._make_snippets(rng, 3 * factor)
        self.webhooks = self._make_webhooks()
        self.catalogs, self.catalog_items = self._make_catalogs(rng, factor)
        self.metadata_tables = self._make_metadata(rng)
        self._skip_former_metric_draws(rng)
        self.user_fields = dict(USER_FIELD_TYPES)
        if project_type == "hybrid":
            self.user_fields.update(HYBRID_USER_FIELD_TYPES)
        self.users = self._make_users(rng, users if users is not None else 30 * factor)
        self.list_members, self._list_member_users = self._make_list_members(rng)
        self.events: dict[str, EventTable] = {
            data_type: EventTable(self, data_type, self._event_count(data_type, events_per_type, factor))
            for data_type in DATA_TYPES
        }
        # The forget list and the catalogs' field types: built without the rng, so everything above stays as it was.
        self.forgotten_emails, self.forgotten_user_ids = self._make_forgotten(factor)
        self.catalog_field_mappings = self._make_catalog_field_mappings()

    EXPORT_START = EXPORT_START
    EXPORT_END = EXPORT_END

    # ------------------------------------------------------------------ lookups used by the handlers
    def event_table(self, data_type: str) -> EventTable | None:
        return self.events.get(DATA_TYPE_ALIASES.get(data_type, data_type))

    def list_member_ids(self, list_id: int, prefer_user_id: bool) -> list[str]:
        """What lists/getUsers returns: emails, or userIds when asked for (or when a member has no email)."""
        ids = []
        for user in self._list_member_users[list_id]:
            if prefer_user_id and "userId" in user:
                ids.append(user["userId"])
            else:
                ids.append(user.get("email") or user["userId"])
        return ids

    # ------------------------------------------------------------------ template content (templates/{medium}/get)
    def template(self, template_id: int) -> dict[str, Any] | None:
        """A template of any medium (embedded included) by id, as stored (with templateType and messageMedium)."""
        return self._template_index.get(template_id)

    def template_content(self, template_id: int, locale: str | None) -> dict[str, Any] | None:
        """The template's content in `locale` (None: the default locale), or None when it has none there."""
        template = self._template_index[template_id]
        return template_content.content(template, locale, self._template_revisions.get(template_id, 0))

    def edit_template(self, template_id: int, updated_at: datetime) -> None:
        """An edit in Iterable's editor: the content changes and `updatedAt` moves to `updated_at`."""
        template = self._template_index[template_id]
        template["updatedAt"] = iso_time(updated_at) if self.template_times == "date-time" else epoch_ms(updated_at)
        self._template_revisions[template_id] = self._template_revisions.get(template_id, 0) + 1

    def templates_with_content(self, medium: str) -> list[dict[str, Any]]:
        """The templates of `medium` whose content exists in the default locale: one record each in its stream."""
        return [
            t
            for t in (*self.templates, *self.embedded_templates)
            if t["messageMedium"] == medium and template_content.has_default_content(t["templateId"])
        ]

    # ------------------------------------------------------------------ campaign state changes (no updatedAt move)
    def advance_campaign(self, campaign_id: int) -> str:
        """Move a campaign one step along Scheduled → Running → Finished (Draft → Ready → Scheduled, Starting →
        Running, Recalling → Recalled) the way Iterable's scheduler does: `updatedAt` stays as it was, `startAt` is
        set when it starts running, `endedAt` when it finishes. Returns the new state."""
        campaign = self.campaigns[self._campaign_index[campaign_id]]
        state = _NEXT_CAMPAIGN_STATE.get(campaign["campaignState"])
        if state is None:
            raise ValueError(f"campaign {campaign_id} is {campaign['campaignState']}: it does not change on its own")
        campaign["campaignState"] = state
        if state == "Running" and campaign["startAt"] is None:
            campaign["startAt"] = campaign["updatedAt"]
        if state in ("Finished", "Recalled"):
            campaign["endedAt"] = (campaign["startAt"] or campaign["updatedAt"]) + 2 * 3600 * 1000
        return state

    def user_updated_at(self, user: Mapping[str, Any]) -> datetime:
        return datetime.strptime(user["profileUpdatedAt"], "%Y-%m-%d %H:%M:%S +00:00").replace(tzinfo=timezone.utc)

    # ------------------------------------------------------------------ builders
    @staticmethod
    def _event_count(data_type: str, events_per_type: int | Mapping[str, int] | None, factor: int) -> int:
        if isinstance(events_per_type, int):
            return events_per_type
        if events_per_type and data_type in events_per_type:
            return events_per_type[data_type]
        return BUSY_TYPES.get(data_type, DEFAULT_EVENTS_PER_TYPE) * factor

    @staticmethod
    def _moment(rng: random.Random, first_day: int = 0, last_day: int = 364) -> datetime:
        return EXPORT_START + timedelta(days=rng.randint(first_day, last_day), seconds=rng.randint(0, 86399))

    @staticmethod
    def _make_channels() -> list[dict[str, Any]]:
        return [
            {"id": 1101, "name": "Marketing Email", "channelType": "Marketing", "messageMedium": "Email"},
            {"id": 1102, "name": "Transactional Email", "channelType": "Transactional", "messageMedium": "Email"},
            {"id": 1103, "name": "Push Notifications", "channelType": "Marketing", "messageMedium": "Push"},
        ]

    def _make_message_types(self, rng: random.Random) -> list[dict[str, Any]]:
        names = ("Newsletter", "Promotions", "Receipts", "Push Alerts")
        channel_ids = (1101, 1101, 1102, 1103)
        types = []
        for offset, (name, channel_id) in enumerate(zip(names, channel_ids, strict=True)):
            created = self._moment(rng, 0, 60)
            types.append(
                {
                    "id": 2201 + offset,
                    "name": name,
                    "channelId": channel_id,
                    "createdAt": epoch_ms(created),
                    "updatedAt": epoch_ms(created + timedelta(days=rng.randint(0, 90))),
                    "subscriptionPolicy": "OptOut" if offset != 2 else "OptIn",
                    "frequencyCap": {"days": 7, "messages": 3} if offset == 1 else None,
                    "rateLimitPerMinute": 1000 if offset == 3 else None,
                }
            )
        return types

    def _make_lists(self, rng: random.Random, count: int) -> list[dict[str, Any]]:
        kinds = ("Standard", "Dynamic", "Suppression", "Standard")
        return [
            {
                "id": 3301 + i,
                "name": f"List {i + 1}",
                "createdAt": epoch_ms(self._moment(rng)),
                "listType": kinds[i % len(kinds)],
                "description": None if i % 2 else f"Audience {i + 1}",
            }
            for i in range(count)
        ]

    def _make_templates(self, rng: random.Random, factor: int) -> list[dict[str, Any]]:
        templates = []
        next_id = 400001
        for template_type in TEMPLATE_TYPES:
            for medium in MESSAGE_MEDIUMS:
                if (template_type, medium) in EMPTY_TEMPLATE_COMBOS:
                    continue
                for _ in range(rng.randint(1, 3) * factor):
                    created = self._moment(rng, 0, 300)
                    updated = created + timedelta(
                        days=rng.randint(0, 60), seconds=rng.randint(1, 999), milliseconds=next_id % 7 * 125
                    )
                    template = self._template(next_id, template_type, medium, created, updated)
                    template["messageTypeId"] = 2201 + rng.randint(0, 3)
                    templates.append(template)
                    next_id += 1
        return templates

    def _template(
        self, template_id: int, template_type: str, medium: str, created: datetime, updated: datetime
    ) -> dict[str, Any]:
        """One template as the list serves it (plus its templateType and messageMedium, which the wire omits)."""
        wire_time = iso_time if self.template_times == "date-time" else epoch_ms
        return {
            "templateId": template_id,
            "name": f"{template_type} {medium} #{template_id}",
            "createdAt": wire_time(created),
            "updatedAt": wire_time(updated),
            "creatorUserId": "designer@example.com",
            "messageTypeId": 2201 + template_id % 4,
            "campaignId": None,
            "clientTemplateId": f"client-{template_id}" if template_id % 2 else None,
            "templateType": template_type,
            "messageMedium": medium,
        }

    def _make_embedded_templates(self, factor: int) -> list[dict[str, Any]]:
        """A few embedded templates (Base, Blast, Triggered; no Workflow: an empty page), ids after the others."""
        next_id = max(t["templateId"] for t in self.templates) + 1
        templates = []
        for template_type in ("Base", "Blast", "Triggered"):
            for _ in range(factor):
                created = EXPORT_START + timedelta(seconds=_mix(self.seed, next_id) % _SPAN_SECONDS // 2)
                updated = created + timedelta(days=next_id % 30, seconds=next_id % 997 + 1)
                templates.append(self._template(next_id, template_type, "Embedded", created, updated))
                next_id += 1
        return templates

    def _make_template_history(self, count: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """`count` templates over the year, cycling through the template types and the five media."""
        media = (*MESSAGE_MEDIUMS, "Embedded")
        templates: list[dict[str, Any]] = []
        embedded: list[dict[str, Any]] = []
        step = (_SPAN_SECONDS - 2 * 86400) / max(count, 1)  # updated up to 2 days after creation, still in 2025
        for i in range(count):
            template_type = TEMPLATE_TYPES[i % len(TEMPLATE_TYPES)]
            medium = media[i // len(TEMPLATE_TYPES) % len(media)]
            created = EXPORT_START + timedelta(seconds=int(i * step))
            updated = created + timedelta(hours=1 + i % 48, milliseconds=i % 8 * 125)
            template = self._template(400001 + i, template_type, medium, created, updated)
            (embedded if medium == "Embedded" else templates).append(template)
        return templates, embedded

    def _make_campaigns(self, rng: random.Random, count: int) -> list[dict[str, Any]]:
        campaigns = []
        campaign_templates = [t for t in self.templates if t["templateType"] in ("Blast", "Triggered")]
        for i in range(count):
            template = campaign_templates[i % len(campaign_templates)]
            state = CAMPAIGN_STATES[i % len(CAMPAIGN_STATES)]
            created = self._moment(rng, 0, 250)
            started = created + timedelta(days=rng.randint(1, 30))
            campaign = {
                "id": self._campaign_id_base + i,
                "name": f"Campaign {i + 1}",
                "campaignState": state,
                "type": template["templateType"],
                "messageMedium": template["messageMedium"],
                "createdAt": epoch_ms(created),
                "updatedAt": epoch_ms(
                    created + timedelta(days=rng.randint(0, 100), seconds=rng.randint(1, 999), milliseconds=i % 4 * 250)
                ),
                "startAt": epoch_ms(started) if state not in ("Draft", "Ready") else None,
                # Ended 2 hours to 27 days after the start (recently ended and long finished alike).
                "endedAt": (
                    epoch_ms(started + timedelta(days=9 * (i % 4), hours=2))
                    if state in ("Finished", "Aborted", "Recalled")
                    else None
                ),
                "createdByUserId": "marketer@example.com",
                "updatedByUserId": "marketer@example.com",
                "templateId": template["templateId"],
                "recurringCampaignId": self._campaign_id_base if state == "Recurring" else None,
                "workflowId": 600001 + i % 5 if template["templateType"] == "Triggered" else None,
                "listIds": [self.lists[i % len(self.lists)]["id"]],
                "suppressionListIds": [self.lists[2]["id"]] if i % 3 == 0 else [],
                "labels": ["spring"] if i % 2 else [],
                "sendSize": rng.randint(0, 5000) if state == "Finished" else None,
            }
            template["campaignId"] = template["campaignId"] or campaign["id"]
            campaigns.append(campaign)
        return campaigns

    def _make_campaign_history(self, count: int, active: int) -> list[dict[str, Any]]:
        """`count` campaigns over 5 years, the last `active` of them sending now (no randomness: fast at 50,000)."""
        campaigns = []
        history = count - active
        span = timedelta(days=5 * 365)
        active_states = ("Running", "Recurring", "Scheduled", "Starting")
        templates = [t for t in self.templates if t["templateType"] in ("Blast", "Triggered")]
        for i in range(count):
            template = templates[i % len(templates)]
            if i < history:
                state = "Draft" if i % 50 == 49 else "Finished"
                ended = EXPORT_END - timedelta(hours=1) - span * (history - 1 - i) / max(history, 1)
                started = ended - timedelta(days=i % 5, hours=2)
            else:
                state = active_states[i % len(active_states)]
                ended = None
                started = EXPORT_END + (timedelta(days=2) if state == "Scheduled" else -timedelta(days=1 + i % 60))
            created = started - timedelta(days=3)
            campaigns.append(
                {
                    "id": self._campaign_id_base + i,
                    "name": f"Campaign {i + 1}",
                    "campaignState": state,
                    "type": template["templateType"],
                    "messageMedium": template["messageMedium"],
                    "createdAt": epoch_ms(created),
                    "updatedAt": epoch_ms((ended or created) + timedelta(hours=1)),
                    "startAt": epoch_ms(started) if state != "Draft" else None,
                    "endedAt": epoch_ms(ended) if ended is not None and state != "Draft" else None,
                    "createdByUserId": "marketer@example.com",
                    "updatedByUserId": "marketer@example.com",
                    "templateId": template["templateId"],
                    "recurringCampaignId": None,
                    "workflowId": None,
                    "listIds": [self.lists[i % len(self.lists)]["id"]],
                    "suppressionListIds": [],
                    "labels": [],
                    "sendSize": None,
                }
            )
        return campaigns

    def _make_journeys(self, rng: random.Random, count: int) -> list[dict[str, Any]]:
        journeys = []
        for i in range(count):
            created = self._moment(rng, 0, 300)
            journeys.append(
                {
                    "id": 600001 + i,
                    "name": f"Journey {i + 1}",
                    "description": f"Flow {i + 1}" if i % 3 else None,
                    "enabled": i % 4 != 0,
                    "isArchived": False,
                    "journeyType": "Published" if i % 5 else "Draft",
                    "triggerEventNames": ["customEvent:addedToCart"] if i % 2 else [],
                    "createdAt": epoch_ms(created),
                    "updatedAt": epoch_ms(created + timedelta(days=rng.randint(0, 40))),
                    "creatorUserId": "marketer@example.com",
                    "lifetimeLimit": None,
                    "simultaneousLimit": 1,
                }
            )
        return journeys

    def _make_snippets(self, rng: random.Random, count: int) -> list[dict[str, Any]]:
        snippets = []
        for i in range(count):
            created = self._moment(rng, 0, 300)
            snippets.append(
                {
                    "id": 700001 + i,
                    "name": f"footer_{i + 1}",
                    "content": f"<p>Footer {{{{name}}}} {i + 1}</p>",
                    "description": None if i % 2 else "Shared footer",
                    "variables": ["name"],
                    "createdAt": iso_time(created),
                    "updatedAt": iso_time(created + timedelta(days=rng.randint(0, 40), milliseconds=i % 3 * 250)),
                    "createdBy": "designer@example.com",
                    "updatedBy": "designer@example.com",
                }
            )
        return snippets

    def _make_webhooks(self) -> list[dict[str, Any]]:
        return [
            {
                "id": 800001,
                "endpoint": "https://hooks.example.com/iterable",
                "enabled": True,
                "authType": "NoAuth",
                "blastSendEnabled": True,
                "triggeredSendEnabled": False,
                "channelIds": [1101],
                "messageTypeIds": [2201],
            },
            {
                "id": 800002,
                "endpoint": "https://hooks.example.com/orders",
                "enabled": False,
                "authType": "Basic",
                "blastSendEnabled": False,
                "triggeredSendEnabled": True,
                "channelIds": [],
                "messageTypeIds": [],
            },
        ]

    def _make_catalogs(self, rng: random.Random, factor: int) -> tuple[list[dict], dict[str, list[dict]]]:
        sizes = {"products": 6 * factor, "stores": 3 * factor}
        catalogs = [{"name": name} for name in sizes]
        items: dict[str, list[dict]] = {}
        for name, size in sizes.items():
            items[name] = []
            for i in range(size):
                value = (
                    {"name": f"Product {i + 1}", "price": round(rng.uniform(5, 200), 2), "inStock": bool(i % 2)}
                    if name == "products"
                    else {"city": _CITIES[i % len(_CITIES)], "location": {"lat": 30.0 + i, "lon": -97.0 - i}}
                )
                items[name].append(
                    {
                        "catalogName": name,
                        "itemId": f"{name[:-1]}-{i + 1:03d}",
                        "lastModified": iso_time(self._moment(rng) + timedelta(milliseconds=i % 5 * 200)),
                        "size": len(json.dumps(value)),
                        "value": value,
                    }
                )
        return catalogs, items

    def _make_metadata(self, rng: random.Random) -> dict[str, dict[str, dict[str, Any]]]:
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        return {
            "store_hours": {
                day: {"open": "09:00", "close": "18:00" if i < 5 else "14:00"} for i, day in enumerate(days)
            },
            "feature_flags": {
                f"flag_{i}": {"enabled": bool(rng.randint(0, 1)), "rollout": rng.randint(0, 100)} for i in range(3)
            },
        }

    # ------------------------------------------------------------------ GDPR forget list, catalog field types
    def _make_forgotten(self, factor: int) -> tuple[list[str], list[str]]:
        """The emails and userIds the project forgot, as the customer's own data spells them (mixed case, stray
        spaces): Iterable keeps only their hashes (`forget_hash`). Email-based projects forget by email,
        userId-based ones by userId, hybrid ones by either."""
        emails = [
            f"  Former.Customer{i + 1}@Example.COM " if i % 2 else f"former.customer{i + 1}@example.com"
            for i in range(3 * factor)
        ]
        user_ids = [f" Former-User-{i + 1:05d}" if i % 2 else f"former-user-{i + 1:05d}" for i in range(2 * factor)]
        return (
            emails if self.project_type != "userId" else [],
            user_ids if self.project_type != "email" else [],
        )

    def _make_catalog_field_mappings(self) -> dict[str, dict[str, Any]]:
        """GET catalogs/{name}/fieldMappings: the types set for some of the fields the catalog's items carry
        (CATALOG_FIELD_TYPES); the other fields are `undefinedFields`."""
        mappings = {}
        for catalog in self.catalogs:
            name = catalog["name"]
            defined = CATALOG_FIELD_TYPES.get(name, {})
            carried = {field for item in self.catalog_items[name] for field in item["value"]}
            mappings[name] = {"definedMappings": dict(defined), "undefinedFields": sorted(carried - set(defined))}
        return mappings

    # ------------------------------------------------------------------ campaign metrics
    def _skip_former_metric_draws(self, rng: random.Random) -> None:
        """Metrics are now computed per campaign and day (below); the random draws they used to take are still
        taken, so that users, list members and events after them stay exactly what earlier versions served."""
        for i in range(len(self.campaigns)):
            rng.randint(0, 5000), rng.uniform(10, 90), rng.randint(0, 50), rng.uniform(0, 4000)
            rng.randint(0, 20), rng.randint(0, 10), rng.uniform(0, 5)
            if i % 3 == 0:
                rng.randint(0, 900)
            if i % 4 == 0:
                rng.randint(0, 300)

    def campaign_activity(self, campaign_id: int) -> tuple[date, date] | None:
        """The UTC days [first, last) with metrics: from startAt to 3 days after endedAt (late opens and clicks),
        or to 2026-01-01 while the campaign runs; None for a campaign that never started or is not known."""
        index = self._campaign_index.get(campaign_id)
        if index is None:
            return None
        campaign = self.campaigns[index]
        if campaign["startAt"] is None:
            return None
        first = datetime.fromtimestamp(campaign["startAt"] / 1000, tz=timezone.utc).date()
        if campaign["endedAt"] is None:
            return first, ACTIVITY_END
        ended = datetime.fromtimestamp(campaign["endedAt"] / 1000, tz=timezone.utc).date()
        return first, min(ended + timedelta(days=4), ACTIVITY_END)

    def campaign_day_counts(self, campaign_id: int, day: date) -> dict[str, int]:
        """One campaign's counts on one day with activity (revenue in cents): the unit every range sums."""
        h = _mix(self.seed, campaign_id, day.toordinal())
        sends = h % 200
        purchases = (h >> 12) % 4
        return {
            "sends": sends,
            "unique_opens": sends // 3,
            "opens": sends // 2,
            "clicks": sends // 10,
            "bounced": (h >> 8) % 3,
            "unsubscribes": (h >> 10) % 2,
            "purchases": purchases,
            "revenue_cents": purchases * ((h >> 16) % 9000 + 1000),
            "push": (h >> 30) % 50,
            "sms": (h >> 36) % 20,
        }

    def campaign_metrics_row(self, campaign_id: int, start: date | None, end: date | None) -> dict[str, str] | None:
        """The metrics CSV row of one campaign over the days [start, end) (None: unbounded): each count the sum
        of its days, so daily rows add up to the lifetime row; averages from the sums. None: unknown campaign."""
        index = self._campaign_index.get(campaign_id)
        if index is None:
            return None
        totals = dict.fromkeys(
            (
                "sends",
                "unique_opens",
                "opens",
                "clicks",
                "bounced",
                "unsubscribes",
                "purchases",
                "revenue_cents",
                "push",
                "sms",
            ),
            0,
        )
        activity = self.campaign_activity(campaign_id)
        if activity is not None:
            first = max(activity[0], start) if start else activity[0]
            last = min(activity[1], end) if end else activity[1]
            day = first
            while day < last:
                for name, value in self.campaign_day_counts(campaign_id, day).items():
                    totals[name] += value
                day += timedelta(days=1)
        sends, purchases, cents = totals["sends"], totals["purchases"], totals["revenue_cents"]
        return {
            "id": str(campaign_id),
            # Iterable leaves averages empty with nothing to average; campaign 5 shows its text form.
            "Average Order Value": "N/A" if index == 4 else (f"{cents / purchases / 100:.2f}" if purchases else ""),
            "Purchases": str(purchases),
            "Revenue": f"{cents // 100}.{cents % 100:02d}",
            "Total Email Sends": str(sends),
            "Unique Email Opens (filtered)": str(totals["unique_opens"]),
            "Total Email Opens": str(totals["opens"]),
            "Unique Email Clicks": str(totals["clicks"]),
            "Total Email Bounced": str(totals["bounced"]),
            "Total Unsubscribes": str(totals["unsubscribes"]),
            "Purchases / M (Email)": f"{purchases * 1000 / sends:.4f}" if sends else "",
            "Total Push Sends": "" if index % 3 else str(totals["push"]),
            "Total SMS Sent": "" if index % 4 else str(totals["sms"]),
            "Total In-App Sent": "",
            "Total Web Push Send": "0",
        }

    # ------------------------------------------------------------------ experiments
    def experiments_of(self, campaign_id: int) -> list[dict[str, Any]]:
        """The email experiments of one campaign (none for an unknown campaign): two in three email campaigns have
        one (a draft's too, without numbers yet), testing its template (the control) against one variant template,
        or two when the campaign's index is a multiple of 4."""
        index = self._campaign_index.get(campaign_id)
        if index is None:
            return []
        campaign = self.campaigns[index]
        if campaign["messageMedium"] != "Email" or index % 3 == 1:
            return []
        created = datetime.fromtimestamp(campaign["createdAt"] / 1000, tz=timezone.utc) + timedelta(hours=5)
        variants = 3 if index % 4 == 0 else 2
        return [
            {
                "experimentId": 700001 + index,
                "campaignId": campaign_id,
                "name": f"{campaign['name']}, {EXPERIMENT_TYPES[index // 3 % 3]} test",
                "type": EXPERIMENT_TYPES[index // 3 % 3],
                "creationDate": iterable_time(created),
                "lastModified": iterable_time(created + timedelta(hours=1, minutes=index % 60)),
                "templateIds": [campaign["templateId"], *(900001 + index * 10 + k for k in range(1, variants))],
            }
        ]

    def experiment_by_id(self, experiment_id: int) -> dict[str, Any] | None:
        campaign_index = experiment_id - 700001
        if not 0 <= campaign_index < len(self.campaigns):
            return None
        found = self.experiments_of(self.campaigns[campaign_index]["id"])
        return found[0] if found else None

    @property
    def experiments(self) -> list[dict[str, Any]]:
        return [e for campaign in self.campaigns for e in self.experiments_of(campaign["id"])]

    def experiment_metrics_rows(
        self, experiment: Mapping[str, Any], start: date | None, end: date | None
    ) -> list[dict[str, str]]:
        """One CSV row per variant (template) of `experiment`, its counts over the campaign's days in [start, end)
        (None: unbounded), each the variant's share of the campaign's day; improvement and confidence against the
        control (the first template), empty on the control's own row."""
        activity = self.campaign_activity(experiment["campaignId"])
        totals = []
        for position, template_id in enumerate(experiment["templateIds"]):
            counts = dict.fromkeys(("sends", "unique_opens", "clicks", "unsubscribes", "purchases", "revenue_cents"), 0)
            if activity is not None:
                day = max(activity[0], start) if start else activity[0]
                last = min(activity[1], end) if end else activity[1]
                while day < last:
                    campaign_day = self.campaign_day_counts(experiment["campaignId"], day)
                    share = 1 + _mix(self.seed, template_id, day.toordinal()) % 3
                    for name in counts:
                        counts[name] += campaign_day[name] * share // (3 * len(experiment["templateIds"]))
                    day += timedelta(days=1)
            totals.append((template_id, position, counts))
        control = totals[0][2]
        control_rate = control["unique_opens"] / control["sends"] if control["sends"] else 0.0
        rows = []
        for template_id, position, counts in totals:
            rate = counts["unique_opens"] / counts["sends"] if counts["sends"] else 0.0
            compared = position > 0 and control_rate > 0
            rows.append(
                {
                    "campaignId": str(experiment["campaignId"]),
                    "experimentId": str(experiment["experimentId"]),
                    "templateId": str(template_id),
                    "name": experiment["name"],
                    "type": experiment["type"],
                    "creationDate": experiment["creationDate"],
                    "lastModified": experiment["lastModified"],
                    "improvement": f"{(rate - control_rate) / control_rate * 100:.2f}" if compared else "",
                    "confidence": f"{50 + _mix(self.seed, template_id) % 500 / 10:.1f}" if compared else "",
                    "Total Email Sends": str(counts["sends"]),
                    "Unique Email Opens (filtered)": str(counts["unique_opens"]),
                    "Unique Email Clicks": str(counts["clicks"]),
                    "Total Unsubscribes": str(counts["unsubscribes"]),
                    "Purchases": str(counts["purchases"]),
                    "Revenue": f"{counts['revenue_cents'] // 100}.{counts['revenue_cents'] % 100:02d}",
                }
            )
        return rows

    def object_counts(self) -> dict[str, int]:
        """Records per REST stream and `users`: one per object, list member, metadata key, user field and user."""
        return {
            "campaigns": len(self.campaigns),
            "campaigns_metrics": len(self.campaign_metrics),
            "experiments_metrics": sum(len(experiment["templateIds"]) for experiment in self.experiments),
            "channels": len(self.channels),
            "lists": len(self.lists),
            "list_users": sum(len(members) for members in self.list_members.values()),
            "message_types": len(self.message_types),
            "metadata": sum(len(keys) for keys in self.metadata_tables.values()),
            "templates": len(self.templates),
            "catalogs": len(self.catalogs),
            "catalog_items": sum(len(items) for items in self.catalog_items.values()),
            "journeys": len(self.journeys),
            "snippets": len(self.snippets),
            "webhooks": len(self.webhooks),
            "user_fields": len(self.user_fields),
            "users": len(self.users),
            # template content: one row per template of the medium with content in the default locale
            **{
                f"{name}_templates": len(self.templates_with_content(medium))
                for name, medium in (
                    ("email", "Email"),
                    ("push", "Push"),
                    ("sms", "SMS"),
                    ("in_app", "InApp"),
                    ("embedded", "Embedded"),
                )
            },
        } | {
            # issue 17: the forget list (one row per hash) and the catalogs' fields (defined and undefined)
            "forgotten_users": len(self.forgotten_emails) + len(self.forgotten_user_ids),
            "catalog_field_mappings": sum(
                len(m["definedMappings"]) + len(m["undefinedFields"]) for m in self.catalog_field_mappings.values()
            ),
        }

    @property
    def campaign_metrics(self) -> dict[int, dict[str, str]]:
        """Every campaign's lifetime row (no date range), by id."""
        return {campaign["id"]: self.campaign_metrics_row(campaign["id"], None, None) for campaign in self.campaigns}

    def _make_users(self, rng: random.Random, count: int) -> list[dict[str, Any]]:
        users = []
        for i in range(count):
            signup = self._moment(rng, 0, 200)
            updated = signup + timedelta(days=rng.randint(0, 160), seconds=rng.randint(0, 86399))
            first, last = _FIRST[i % len(_FIRST)], _LAST[i % len(_LAST)]
            email = f"{first.lower()}.{last.lower()}{i}@example.com"
            user: dict[str, Any] = {}
            has_email = self.project_type == "email" or i % 6 != 5
            has_user_id = self.project_type == "userId" or i % 5 != 4
            if has_email:
                user["email"] = email
            if has_user_id:
                user["userId"] = f"user-{i + 1:05d}"
            if self.project_type == "hybrid":
                user["itblUserId"] = f"{_mix(self.seed, i):016x}"
            user["signupDate"] = iterable_time(signup)
            user["profileUpdatedAt"] = iterable_time(updated)
            user["itblInternal"] = {
                "documentCreatedAt": iterable_time(signup),
                "documentUpdatedAt": iterable_time(updated),
                "emailDomain": "example.com",
            }
            if i % 3 == 0:
                user["itblInternal"].update(phoneCountry="US", phoneType="mobile")
            if self.project_type != "email" and "email" not in user and "userId" not in user:
                user["itblInternal"]["isUnknownUser"] = True
            if i % 4 == 2:
                user["devices"] = [
                    {
                        "token": f"{_mix(self.seed, i, 3):016x}",
                        "platform": ("APNS", "GCM")[i % 2],
                        "applicationName": "com.example.app",
                        "endpointEnabled": True,
                        "notificationsEnabled": i % 8 != 2,
                        "dataFields": {"appBuild": "412"},
                    }
                ]
            if i % 5 == 0:
                user["ip"] = f"198.51.100.{i % 250 + 1}"
            if i % 6 == 1:
                user["itblDS"] = {"predictedPurchaseLikelihood": round(rng.uniform(0, 1), 3)}
            user["emailListIds"] = []
            user["firstName"] = first
            if i % 4:
                user["lastName"] = last
            if i % 3 == 0:
                user["phoneNumber"] = _phone(i * 7919)
            user["loyaltyPoints"] = rng.randint(0, 10000)
            user["lifetimeValue"] = round(rng.uniform(0, 2500), 2)
            user["isVip"] = i % 7 == 0
            if i % 2:
                user["lastPurchaseDate"] = iterable_time(self._moment(rng, 100, 364))
            user["preferences"] = {"newsletter": bool(i % 2), "channel": ("email", "sms", "push")[i % 3]}
            if i % 5 != 1:
                user["address"] = {"city": _CITIES[i % len(_CITIES)], "postalCode": f"{10000 + i * 37}"}
            if i % 3 != 2:
                user["location"] = {"lat": round(rng.uniform(-60, 60), 4), "lon": round(rng.uniform(-150, 150), 4)}
            if i % 4 == 1:
                user["orders"] = [
                    {"orderId": f"ord-{i}-{k}", "amount": round(rng.uniform(5, 300), 2)} for k in range(1 + i % 3)
                ]
            # Case-colliding field names, as real projects accumulate them.
            if i % 3 != 1:
                user["Industry"] = _INDUSTRIES[i % len(_INDUSTRIES)]
            if i % 3 != 0:
                user["industry"] = _INDUSTRIES[(i + 1) % len(_INDUSTRIES)].lower()
            offers: dict[str, Any] = {}
            if i % 2 == 0:
                offers["Intro APR"] = round(rng.uniform(0, 5), 2)
            if i % 3 == 0:
                offers["intro APR"] = f"{rng.uniform(0, 5):.1f}%"
            if offers:
                user["offers"] = offers
            users.append(user)
        return users

    def _make_list_members(self, rng: random.Random) -> tuple[dict[int, list[str]], dict[int, list[dict]]]:
        member_users: dict[int, list[dict]] = {}
        # A hybrid project's unknown users (no email, no userId) cannot be list members.
        known = [user for user in self.users if "email" in user or "userId" in user]
        for a_list in self.lists:
            size = min(rng.randint(2, 8), len(known))
            members = rng.sample(known, size)
            member_users[a_list["id"]] = members
            for user in members:
                user["emailListIds"].append(a_list["id"])
        self._list_member_users = member_users
        prefer_user_id = self.project_type == "userId"
        member_ids = {list_id: self.list_member_ids(list_id, prefer_user_id) for list_id in member_users}
        return member_ids, member_users
