"""Template content: what `GET templates/{email,push,sms,inapp,embedded}/get` answers for one template.

Each body has the fields of its model in Iterable's API definition (ApiEmailTemplateModel, ApiPushTemplateModel,
ApiSMSTemplateModel, ApiInAppTemplateModel, ApiEmbeddedTemplateModel), computed from the template's id (no random
draws, so the rest of the data set does not move) and its revision (each edit changes the subject, message or title).
Where the definition types a field `object` that is a flag or an id (`cacheDataFeed`, `mergeDataFeedContext` of
email, `campaignId` of push and SMS, `placementId`), the body carries the boolean or integer real accounts and
Iterable's own API client show. `createdAt`/`updatedAt` (push, SMS, and email's `metadata`) take the data set's
template time form, as the list does (the template's own values).

Locales: every template has content in some locales; the default locale (no `locale` parameter) is `en`. One
template in five (`templateId % 5 == 3`) has content only in `fr`, so its default-locale request answers 404, as the
definition says ("Content does not exist for specified locale").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

# Path segment of the content endpoint -> the template's messageMedium.
CONTENT_MEDIA = {"email": "Email", "push": "Push", "sms": "SMS", "inapp": "InApp", "embedded": "Embedded"}
DEFAULT_LOCALE = "en"


def locales(template_id: int) -> tuple[str, ...]:
    """The locales a template has content in."""
    if template_id % 5 == 3:
        return ("fr",)
    return (DEFAULT_LOCALE, "fr") if template_id % 3 == 0 else (DEFAULT_LOCALE,)


def has_default_content(template_id: int) -> bool:
    return DEFAULT_LOCALE in locales(template_id)


def content(template: Mapping[str, Any], locale: str | None, revision: int) -> dict[str, Any] | None:
    """The body for `template` in `locale` (None: the default locale), or None when it has no such content."""
    wanted = locale or DEFAULT_LOCALE
    if wanted not in locales(template["templateId"]):
        return None
    edit = f" (edit {revision})" if revision else ""
    body = _BUILDERS[template["messageMedium"]](template, edit)
    if locale is not None:
        body["locale"] = locale
        body["isDefaultLocale"] = locale == DEFAULT_LOCALE
    return body


def _common(template: Mapping[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "templateId": template["templateId"],
        "name": template["name"],
        "messageTypeId": template["messageTypeId"],
        "campaignDataFields": {"season": "spring"} if template["templateId"] % 2 else {},
    }
    if template.get("clientTemplateId"):
        fields["clientTemplateId"] = template["clientTemplateId"]
    return fields


def _campaign(template: Mapping[str, Any]) -> dict[str, Any]:
    return {"campaignId": template["campaignId"]} if template.get("campaignId") else {}


def _email(template: Mapping[str, Any], edit: str) -> dict[str, Any]:
    template_id = template["templateId"]
    metadata = {
        "templateId": template_id,
        "createdAt": template["createdAt"],
        "updatedAt": template["updatedAt"],
        "name": template["name"],
        "creatorUserId": template["creatorUserId"],
        "messageTypeId": template["messageTypeId"],
        **_campaign(template),
    }
    if template.get("clientTemplateId"):
        metadata["clientTemplateId"] = template["clientTemplateId"]
    return {
        **_common(template),
        "creatorUserId": template["creatorUserId"],
        "fromName": "Example Shop",
        "fromEmail": "news@example.com",
        "replyToEmail": "support@example.com",
        "subject": f"Spring sale #{template_id % 40}{edit}",
        "preheaderText": "Up to 30% off this week" if template_id % 2 else "",
        "ccEmails": [],
        "bccEmails": ["archive@example.com"] if template_id % 4 == 0 else [],
        "html": f"<html><body><h1>Hello {{{{firstName}}}}</h1><p>Offer {template_id}{edit}</p></body></html>",
        "plainText": f"Hello {{{{firstName}}}}, offer {template_id}{edit}",
        "googleAnalyticsCampaignName": f"spring-{template_id % 40}",
        "linkParams": [{"key": "utm_source", "value": "iterable"}],
        "dataFeedIds": [9001] if template_id % 3 == 0 else [],
        "cacheDataFeed": False,
        "mergeDataFeedContext": template_id % 3 == 0,
        "metadata": metadata,
    }


def _push(template: Mapping[str, Any], edit: str) -> dict[str, Any]:
    template_id = template["templateId"]
    return {
        **_common(template),
        **_campaign(template),
        "createdAt": template["createdAt"],
        "updatedAt": template["updatedAt"],
        "title": f"Back in stock{edit}",
        "message": f"Item {template_id % 97} is back, {{{{firstName}}}}",
        "badge": "1",
        "sound": "default",
        "buttons": [
            {
                "identifier": "open-item",
                "title": "View",
                "buttonType": "default",
                "openApp": True,
                "requiresUnlock": False,
                "action": {"type": "openUrl", "data": f"https://shop.example.com/p/{template_id % 97}"},
            }
        ],
        "deeplink": {"ios": f"shop://p/{template_id % 97}", "android": f"shop://p/{template_id % 97}"},
        "richMedia": {"ios": "https://cdn.example.com/p.png", "android": "https://cdn.example.com/p.png"},
        "payload": {"itemId": template_id % 97},
        "interruptionLevel": "active",
        "isSilentPush": False,
        "relevanceScore": 0.5,
        "wake": False,
        "dataFeedIds": [],
        "cacheDataFeed": False,
        "mergeDataFeedContext": False,
    }


def _sms(template: Mapping[str, Any], edit: str) -> dict[str, Any]:
    template_id = template["templateId"]
    return {
        **_common(template),
        **_campaign(template),
        "createdAt": template["createdAt"],
        "updatedAt": template["updatedAt"],
        "message": f"Your code is {{{{code}}}}. Offer {template_id}{edit}",
        "imageUrl": "https://cdn.example.com/mms.png" if template_id % 2 else "",
        "trackingDomain": "ex.co",
        "googleAnalyticsCampaignName": f"sms-{template_id % 40}",
        "linkParams": [],
    }


def _in_app(template: Mapping[str, Any], edit: str) -> dict[str, Any]:
    template_id = template["templateId"]
    return {
        **_common(template),
        **_campaign(template),
        "html": f"<div class='offer'>Offer {template_id}{edit}</div>",
        "payload": {},
        # The definition's format for it: YYYY-MM-DD HH:MM:SS, UTC.
        "expirationDateTime": "2026-03-31 00:00:00",
        "expirationDuration": "now+90d",
        "inAppDisplaySettings": {
            "top": {"percentage": 0},
            "right": {"percentage": 0},
            "bottom": {"percentage": 0},
            "left": {"percentage": 0},
            "bgColor": {"alpha": 0.5, "hex": "#000000"},
            "shouldAnimate": True,
        },
        "inboxMetadata": {"title": f"Offer {template_id}{edit}", "subtitle": "This week", "icon": ""},
        "webInAppDisplaySettings": {"position": "Center"},
    }


def _embedded(template: Mapping[str, Any], edit: str) -> dict[str, Any]:
    template_id = template["templateId"]
    return {
        **_common(template),
        **_campaign(template),
        "placementId": 100 + template_id % 5,
        "title": f"Another day, another deal{edit}",
        "body": f"Deal {template_id} for {{{{firstName}}}}",
        "payload": {},
        "elements": {
            "buttons": [{"id": "shop", "title": "Shop", "action": {"type": "openUrl", "data": "https://ex.co/shop"}}],
            "defaultAction": {"type": "openUrl", "data": f"https://ex.co/deal/{template_id}"},
            "mediaUrl": "https://cdn.example.com/deal.png",
            "mediaUrlCaption": "Deal of the day",
            "text": [{"label": "badge", "text": "New"}],
        },
    }


_BUILDERS: dict[str, Callable[[Mapping[str, Any], str], dict[str, Any]]] = {
    "Email": _email,
    "Push": _push,
    "SMS": _sms,
    "InApp": _in_app,
    "Embedded": _embedded,
}
