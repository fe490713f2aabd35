"""Iterable's REST (non-export) read endpoints, with their exact response shapes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from urllib.parse import urlencode

from ..dataset import EXPERIMENT_COLUMNS, METRIC_COLUMNS, forget_hash, instant
from ..responses import BadRequest, Response, json_response
from ..template_content import CONTENT_MEDIA
from .request import Request, parse_iterable_datetime

METADATA_PAGE_SIZE = 5


def _int_param(request: Request, name: str, default: int, maximum: int | None = None) -> int:
    raw = request.first(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid value for {name}: {raw!r} is not an integer") from None
    if value < 1:
        raise BadRequest(f"Invalid value for {name}: must be at least 1")
    if maximum is not None and value > maximum:
        raise BadRequest(f"Invalid value for {name}: {value} exceeds the maximum of {maximum}")
    return value


def _sorted(items: Sequence[dict], sort: str | None, default: str) -> list[dict]:
    spec = sort or default
    descending = spec.startswith("-")
    key = spec.lstrip("+-")
    if key == "id" and items and "id" not in items[0]:
        key = default.lstrip("+-")  # templates sort by "id", which is their templateId
    return sorted(items, key=lambda item: (item.get(key) is None, item.get(key)), reverse=descending)


def _page(
    request: Request, items: Sequence[dict], *, default_size: int, max_size: int, sort_default: str | None
) -> tuple[list[dict], dict[str, str]]:
    """One page of `items` and the `nextPageUrl` / `previousPageUrl` links (absolute, on this server)."""
    page = _int_param(request, "page", 1)
    size = _int_param(request, "pageSize", default_size, max_size)
    ordered = _sorted(items, request.first("sort"), sort_default) if sort_default else list(items)
    chunk = ordered[(page - 1) * size : page * size]
    links = {}
    kept = {key: values for key, values in request.params.items() if key not in ("page", "pageSize")}

    def url(to_page: int) -> str:
        query = urlencode({**kept, "page": [str(to_page)], "pageSize": [str(size)]}, doseq=True)
        return f"{request.base_url}{request.path}?{query}"

    if page * size < len(ordered):
        links["nextPageUrl"] = url(page + 1)
    if page > 1:
        links["previousPageUrl"] = url(page - 1)
    return chunk, links


def campaigns(request: Request) -> Response:
    items = request.dataset.campaigns
    states = request.params.get("campaignState")
    if states:
        items = [c for c in items if c["campaignState"] in states]
    chunk, links = _page(request, items, default_size=20, max_size=1000, sort_default="id")
    return json_response({"campaigns": chunk, **links, "totalCampaignsCount": len(items)})


def campaign_metrics(request: Request) -> Response:
    """CSV, one row per known campaignId, its numbers over [startDateTime, endDateTime) by whole UTC days."""
    ids = request.params.get("campaignId") or []
    if not ids:
        raise BadRequest("Missing required parameter campaignId")
    start = _metrics_day(request.first("startDateTime"), "startDateTime", round_up=False)
    end = _metrics_day(request.first("endDateTime"), "endDateTime", round_up=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(METRIC_COLUMNS)
    for raw in ids:
        try:
            row = request.dataset.campaign_metrics_row(int(raw), start, end)
        except ValueError:
            raise BadRequest(f"Invalid campaignId: {raw!r}") from None
        if row is not None:
            writer.writerow([row[column] for column in METRIC_COLUMNS])
    return Response(200, buffer.getvalue().encode(), content_type="text/csv; charset=utf-8")


def experiment_metrics(request: Request) -> Response:
    """CSV (`text/csv`: the definition's header row, then rows), one row per variant of each email experiment of the
    campaigns (`campaignId`) and experiments (`experimentId`) asked, both repeatable and optional; neither: every
    experiment. Numbers over [startDateTime, endDateTime] by whole UTC days: the definition's end is inclusive (<=),
    unlike campaigns/metrics'. The definition is silent on asking both ids (rows of either here) and on the columns
    (dataset.EXPERIMENT_COLUMNS). A campaign without experiments, or unknown, has no row."""
    campaign_ids = _int_params(request, "campaignId")
    experiment_ids = _int_params(request, "experimentId")
    start = _metrics_day(request.first("startDateTime"), "startDateTime", round_up=False)
    last = _metrics_day(request.first("endDateTime"), "endDateTime", round_up=False)
    end = last + timedelta(days=1) if last is not None else None
    if campaign_ids or experiment_ids:
        experiments = [e for campaign_id in campaign_ids for e in request.dataset.experiments_of(campaign_id)]
        by_id = (request.dataset.experiment_by_id(experiment_id) for experiment_id in experiment_ids)
        experiments += [e for e in by_id if e is not None and e not in experiments]
    else:
        experiments = request.dataset.experiments
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(EXPERIMENT_COLUMNS)
    for experiment in experiments:
        for row in request.dataset.experiment_metrics_rows(experiment, start, end):
            writer.writerow([row[column] for column in EXPERIMENT_COLUMNS])
    return Response(200, buffer.getvalue().encode(), content_type="text/csv; charset=utf-8")


def _int_params(request: Request, name: str) -> list[int]:
    values = []
    for raw in request.params.get(name) or []:
        try:
            values.append(int(raw))
        except ValueError:
            raise BadRequest(f"Invalid {name}: {raw!r}") from None
    return values


def _metrics_day(raw: str | None, name: str, round_up: bool) -> date | None:
    """The UTC day a metrics bound falls on (an end later than midnight counts its whole day); None when absent."""
    if not raw:
        return None
    moment = _metrics_date(raw, name)
    day = moment.date()
    return day + timedelta(days=1) if round_up and moment.time() != time(0) else day


def _metrics_date(raw: str, name: str) -> datetime:
    for form in ("%Y-%m-%d", "%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%d %H:%M:%S"):
        try:
            moment = datetime.strptime(raw, form)
        except ValueError:
            continue
        return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)
    return parse_iterable_datetime(raw, name)


def channels(request: Request) -> Response:
    return json_response({"channels": request.dataset.channels})


def lists(request: Request) -> Response:
    return json_response({"lists": request.dataset.lists})


def list_users(request: Request) -> Response:
    raw = request.first("listId")
    if raw is None:
        raise BadRequest("Missing required parameter listId")
    try:
        list_id = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid listId: {raw!r}") from None
    if list_id not in request.dataset.list_members:
        raise BadRequest(f"List {list_id} does not exist", code="NotFound", status=404)
    # userId-based projects list userIds; others list emails unless preferUserId asks for userIds.
    prefer = (request.first("preferUserId") or "false").lower() == "true" or request.dataset.project_type == "userId"
    ids = request.dataset.list_member_ids(list_id, prefer)
    body = "".join(f"{member}\n" for member in ids)
    if list_id == request.dataset.lists[1]["id"]:
        body += "\n"  # blank lines occur in real bodies; this list ends with one

    return Response(200, body.encode(), content_type="text/plain; charset=utf-8")


def message_types(request: Request) -> Response:
    return json_response({"messageTypes": request.dataset.message_types})


def metadata_tables(request: Request) -> Response:
    return json_response({"results": [{"name": name} for name in request.dataset.metadata_tables]})


def _table(request: Request) -> tuple[str, Mapping[str, dict]]:
    name = request.path_params["table"]
    table = request.dataset.metadata_tables.get(name)
    if table is None:
        raise BadRequest(f"Table {name} does not exist", code="NotFound", status=404)
    return name, table


def _metadata_properties(table: str, key: str, value: Mapping[str, Any]) -> dict[str, Any]:
    return {"key": key, "table": table, "size": len(json.dumps(value)), "lastModified": 1735700000000 + len(key) * 1000}


def metadata_keys(request: Request) -> Response:
    name, table = _table(request)
    keys = sorted(table)
    start = 0
    marker = request.first("nextMarker")
    if marker:
        if marker not in keys:
            raise BadRequest(f"Invalid nextMarker: {marker!r}")
        start = keys.index(marker)
    chunk = keys[start : start + METADATA_PAGE_SIZE]
    payload: dict[str, Any] = {"results": [_metadata_properties(name, key, table[key]) for key in chunk]}
    if start + METADATA_PAGE_SIZE < len(keys):
        payload["nextMarker"] = keys[start + METADATA_PAGE_SIZE]
    return json_response(payload)


def metadata_value(request: Request) -> Response:
    name, table = _table(request)
    key = request.path_params["key"]
    if key not in table:
        raise BadRequest(f"Key {key} does not exist in table {name}", code="NotFound", status=404)
    return json_response({**_metadata_properties(name, key, table[key]), "value": table[key]})


# GET templates' messageMedium values in Iterable's API definition. It has no `Embedded`, though it defines
# templates/embedded/get; the emulator lists embedded templates for messageMedium=Embedded (the medium's name in
# campaigns and in the UI) unless Options.template_media_in_definition_only, where any other value is a 400.
DEFINITION_TEMPLATE_MEDIA = ("Email", "Push", "InApp", "SMS")


def templates(request: Request) -> Response:
    items = [*request.dataset.templates, *request.dataset.embedded_templates]
    medium = request.first("messageMedium")
    if medium and request.options.template_media_in_definition_only and medium not in DEFINITION_TEMPLATE_MEDIA:
        raise BadRequest(f"Invalid value for messageMedium: {medium!r}; expected one of {DEFINITION_TEMPLATE_MEDIA}")
    for name in ("templateType", "messageMedium"):
        wanted = request.first(name)
        if wanted:
            items = [t for t in items if t[name].lower() == wanted.lower()]
    if request.first("startDateTime"):
        start = parse_iterable_datetime(request.first("startDateTime"), "startDateTime")
        items = [t for t in items if instant(t["createdAt"]) >= start]
    if request.first("endDateTime"):
        end = parse_iterable_datetime(request.first("endDateTime"), "endDateTime")
        items = [t for t in items if instant(t["createdAt"]) < end]
    chunk, links = _page(request, items, default_size=20, max_size=1000, sort_default="templateId")
    # The API does not echo templateType/messageMedium: the dataset keeps them for tests, the wire does not.
    wire = [{k: v for k, v in t.items() if k not in ("templateType", "messageMedium")} for t in chunk]
    return json_response({"templates": wire, **links, "totalTemplatesCount": len(items)})


def template_content(medium: str) -> Callable[[Request], Response]:
    """The handler of GET templates/<medium>/get (medium as in the path: email, push, sms, inapp, embedded)."""

    def handler(request: Request) -> Response:
        template_id = _template_id(request)
        template = request.dataset.template(template_id)
        if template is None:
            raise BadRequest(f"Template {template_id} does not exist", code="NotFound", status=404)
        # The definition does not say what a template of another medium answers; a 400 naming it is assumed.
        if template["messageMedium"] != CONTENT_MEDIA[medium]:
            raise BadRequest(
                f"Template {template_id} has messageMedium {template['messageMedium']}, not {CONTENT_MEDIA[medium]}"
            )
        locale = request.first("locale") or None
        body = request.dataset.template_content(template_id, locale)
        if body is None:
            # The definition's 404: "Content does not exist for specified locale".
            raise BadRequest(
                f"Content does not exist for locale {locale or 'default'} of template {template_id}",
                code="NotFound",
                status=404,
            )
        return json_response(body)

    return handler


def _template_id(request: Request) -> int:
    raw = request.first("templateId")
    if not raw:
        raise BadRequest("Missing required parameter templateId")
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(f"Invalid templateId: {raw!r}") from None


def catalogs(request: Request) -> Response:
    items = request.dataset.catalogs
    chunk, links = _page(request, items, default_size=10, max_size=1000, sort_default=None)
    inner = {"catalogNames": chunk, "totalCatalogsCount": len(items), **links}
    return json_response(_maybe_wrapped(request, "catalogs", inner))


def catalog_items(request: Request) -> Response:
    name = request.path_params["catalog"]
    items = request.dataset.catalog_items.get(name)
    if items is None:
        raise BadRequest(f"Catalog {name} does not exist", code="NotFound", status=404)
    order_by = request.first("orderBy")
    if order_by:
        ascending = (request.first("sortAscending") or "false").lower() == "true"
        items = sorted(items, key=lambda item: item["value"].get(order_by) or item.get(order_by), reverse=not ascending)
    chunk, links = _page(request, items, default_size=10, max_size=1000, sort_default=None)
    inner = {"catalogItemsWithProperties": chunk, "totalItemsCount": len(items), **links}
    return json_response(_maybe_wrapped(request, "catalog_items", inner))


def catalog_field_mappings(request: Request) -> Response:
    """CatalogFieldMappingsResponse: {definedMappings: {field: type}, undefinedFields: [field]}; no parameters."""
    name = request.path_params["catalog"]
    mappings = request.dataset.catalog_field_mappings.get(name)
    if mappings is None:
        raise BadRequest(f"Catalog {name} does not exist", code="NotFound", status=404)
    return json_response(_maybe_wrapped(request, "catalog_field_mappings", mappings))


def _maybe_wrapped(request: Request, what: str, inner: dict[str, Any]) -> dict[str, Any]:
    if what in request.options.wrapped_catalog_responses:
        return {"msg": "", "code": "Success", "params": inner}
    return inner


def journeys(request: Request) -> Response:
    items = request.dataset.journeys
    archived = request.first("state") == "Archived"
    items = [j for j in items if j["isArchived"] == archived]
    chunk, links = _page(request, items, default_size=10, max_size=50, sort_default="id")
    return json_response({"journeys": chunk, **links, "totalJourneysCount": len(items)})


def snippets(request: Request) -> Response:
    return json_response({"snippets": request.dataset.snippets})


def webhooks(request: Request) -> Response:
    return json_response({"webhooks": request.dataset.webhooks})


def user_fields(request: Request) -> Response:
    return json_response({"fields": request.dataset.user_fields})


# The forget lists. The definition says each endpoint "returns an error" in the other project type without giving
# its status; 400 is the only error it declares besides 401.
def forgotten_emails(request: Request) -> Response:
    if request.dataset.project_type == "userId":
        raise BadRequest("This endpoint only works for email-based and hybrid projects; use users/forgottenUserIds")
    return json_response({"hashedEmails": [forget_hash(email) for email in request.dataset.forgotten_emails]})


def forgotten_user_ids(request: Request) -> Response:
    if request.dataset.project_type == "email":
        raise BadRequest("This endpoint only works for userID-based and hybrid projects; use users/forgotten")
    return json_response({"hashedUserIds": [forget_hash(user_id) for user_id in request.dataset.forgotten_user_ids]})
