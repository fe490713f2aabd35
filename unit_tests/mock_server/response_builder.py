"""Iterable's response bodies: JSON envelopes, nextPageUrl links, CSV, plain text and {msg, code, params} errors."""

import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from airbyte_cdk.test.mock_http import HttpResponse

from unit_tests.mock_server.config import US_BASE


def next_page_url(path: str, page: int, page_size: int, **params: Any) -> str:
    """A nextPageUrl as Iterable writes it: absolute, on the API host, with the query of the next page."""
    query = "&".join(f"{k}={v}" for k, v in {**params, "page": page, "pageSize": page_size}.items())
    return f"{US_BASE}/api/{path}?{query}"


def json_response(body: Mapping[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    return HttpResponse(json.dumps(body), status, headers or {})


def records_response(
    records_key: str, records: Sequence[Mapping[str, Any]], next_url: str | None = None
) -> HttpResponse:
    body: dict[str, Any] = {records_key: list(records)}
    if next_url:
        body["nextPageUrl"] = next_url
    return json_response(body)


def wrapped_records_response(
    records_key: str, records: Sequence[Mapping[str, Any]], next_url: str | None = None
) -> HttpResponse:
    """The catalog endpoints' other shape: the body inside `{msg, code: Success, params}`."""
    params: dict[str, Any] = {records_key: list(records)}
    if next_url:
        params["nextPageUrl"] = next_url
    return json_response({"msg": "", "code": "Success", "params": params})


def error_response(status: int, code: str, msg: str, headers: dict[str, str] | None = None) -> HttpResponse:
    return json_response({"msg": msg, "code": code, "params": None}, status, headers)


def bad_api_key() -> HttpResponse:
    return error_response(401, "BadApiKey", "Invalid API key")


def forbidden() -> HttpResponse:
    return error_response(403, "Forbidden", "Access to this endpoint is not allowed for this API key")


def rate_limited(retry_after: int | None = None) -> HttpResponse:
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
    return error_response(429, "RateLimitExceeded", "Exceeded rate limit for endpoint", headers)


def server_error() -> HttpResponse:
    return error_response(
        500,
        "GenericError",
        "An error occurred. Please try again later. If problem persists, please contact your CSM",
    )


def csv_response(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> HttpResponse:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return HttpResponse(buffer.getvalue(), 200, {"Content-Type": "text/csv"})


def text_response(lines: list[str]) -> HttpResponse:
    return HttpResponse("".join(f"{line}\n" for line in lines), 200, {"Content-Type": "text/plain"})


# ---------------------------------------------------------------- record templates (Iterable's field names)
def a_campaign(campaign_id: int, updated_at: int = 1_704_067_200_000) -> dict[str, Any]:
    return {
        "id": campaign_id,
        "name": f"Campaign {campaign_id}",
        "campaignState": "Finished",
        "type": "Blast",
        "messageMedium": "Email",
        "createdAt": 1_700_000_000_000,
        "updatedAt": updated_at,
        "createdByUserId": "ada@example.com",
        "templateId": 9000 + campaign_id,
        "listIds": [3301],
    }


def a_channel(channel_id: int) -> dict[str, Any]:
    return {
        "id": channel_id,
        "name": f"Channel {channel_id}",
        "channelType": "Marketing",
        "messageMedium": "Email",
    }


def a_list(list_id: int) -> dict[str, Any]:
    return {
        "id": list_id,
        "name": f"List {list_id}",
        "createdAt": 1_700_000_000_000,
        "listType": "Standard",
    }


def a_message_type(type_id: int) -> dict[str, Any]:
    return {
        "id": type_id,
        "name": f"Type {type_id}",
        "channelId": 1,
        "createdAt": 1_700_000_000_000,
        "updatedAt": 1_700_000_100_000,
        "subscriptionPolicy": "OptOut",
        "frequencyCap": {"days": 1, "messages": 2},
    }


def a_template(template_id: int, updated_at: int = 1_704_067_200_000) -> dict[str, Any]:
    return {
        "templateId": template_id,
        "name": f"Template {template_id}",
        "createdAt": 1_700_000_000_000,
        "updatedAt": updated_at,
        "creatorUserId": "ada@example.com",
        "messageTypeId": 1,
    }


def an_email_template(template_id: int, subject: str = "Spring sale") -> dict[str, Any]:
    """A templates/email/get body (ApiEmailTemplateModel), its metadata's times in epoch ms as accounts send them."""
    return {
        "templateId": template_id,
        "name": f"Template {template_id}",
        "subject": subject,
        "fromName": "Shop",
        "fromEmail": "news@example.com",
        "html": f"<p>{subject}</p>",
        "plainText": subject,
        "metadata": {"templateId": template_id, "createdAt": 1_700_000_000_000, "updatedAt": 1_704_067_200_000},
    }


def a_catalog(name: str) -> dict[str, Any]:
    return {"name": name}


def a_catalog_item(catalog: str, item_id: str, last_modified: int = 1_704_067_200_000) -> dict[str, Any]:
    return {
        "catalogName": catalog,
        "itemId": item_id,
        "lastModified": last_modified,
        "size": 12,
        "value": {"sku": item_id},
    }


def a_journey(journey_id: int) -> dict[str, Any]:
    return {
        "id": journey_id,
        "name": f"Journey {journey_id}",
        "enabled": True,
        "isArchived": False,
        "journeyType": "Journey",
    }


def a_snippet(snippet_id: int) -> dict[str, Any]:
    return {
        "id": snippet_id,
        "name": f"snippet_{snippet_id}",
        "content": "Hi {{name}}",
        "createdAt": "2023-11-14T22:13:20Z",  # ISO-8601, as Iterable's API definition (SnippetResponse) has it
    }


def a_webhook(webhook_id: int) -> dict[str, Any]:
    return {
        "id": webhook_id,
        "endpoint": "https://hooks.example.com",
        "enabled": True,
        "authType": "NoAuth",
    }


def a_metadata_key(table: str, key: str) -> dict[str, Any]:
    return {"key": key, "table": table, "size": 10, "lastModified": 1_704_067_200_000}


def a_dated_campaign(
    campaign_id: int, state: str, created: str, started: str | None = None, ended: str | None = None
) -> dict[str, Any]:
    """A campaign whose dates are given as RFC 3339 strings (as REST timestamps may soon arrive)."""
    return {
        **a_campaign(campaign_id),
        "campaignState": state,
        "createdAt": created,
        "updatedAt": ended or created,
        "startAt": started,
        "endedAt": ended,
    }
