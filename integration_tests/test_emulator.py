"""The emulator itself: Iterable's shapes, pagination, auth, the half-open export window, rate limits, faults."""

import json
from datetime import datetime, timedelta, timezone

import pytest
import requests

from integration_tests.emulator import EXPORT_START, Dataset, Emulator, faults
from integration_tests.emulator.dataset import DATA_TYPES, EMPTY_TEMPLATE_COMBOS, METRIC_COLUMNS, instant, iterable_time
from integration_tests.emulator.server import RateLimiter

EXPORT = "/api/export/data.json"
WHOLE_YEAR = {"startDateTime": "2025-01-01 00:00:00", "endDateTime": "2026-01-01 00:00:00 +00:00"}


def get(emu: Emulator, path: str, key: str | None = "valid", **params) -> requests.Response:
    headers = {} if key is None else {"Api-Key": emu.api_key if key == "valid" else key}
    return requests.get(f"{emu.url}{path}", params=params, headers=headers, timeout=10)


def export_lines(emu: Emulator, data_type: str, **window) -> list[dict]:
    response = get(emu, EXPORT, dataTypeName=data_type, **(window or WHOLE_YEAR))
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/x-json-stream"
    return [json.loads(line) for line in response.text.splitlines()]


def follow_pages(emu: Emulator, first_url: str, records_key: str) -> list[dict]:
    records, url = [], first_url
    while url:
        body = requests.get(url, headers={"Api-Key": emu.api_key}, timeout=10).json()
        records += body[records_key]
        url = body.get("nextPageUrl")
    return records


# ---------------------------------------------------------------- data set
def test_same_seed_gives_the_same_data_and_another_seed_different_data():
    first, second, other = Dataset(seed=7), Dataset(seed=7), Dataset(seed=8)
    assert first.users == second.users and list(first.events["emailSend"]) == list(second.events["emailSend"])
    assert first.users != other.users


def test_every_event_and_user_timestamp_falls_inside_2025():
    dataset = Dataset(seed=7)
    for table in dataset.events.values():
        assert all(record["createdAt"].startswith("2025-") for record in table)
    assert all(user["profileUpdatedAt"].startswith("2025-") for user in dataset.users)


def test_some_events_carry_the_malformed_fractional_timestamp_and_a_json_string_transactional_data():
    records = [r for table in Dataset(seed=7).events.values() for r in table]
    assert any(r["createdAt"].endswith(".000Z") and r["createdAt"].count(".") == 2 for r in records)
    sends = [r for r in records if "transactionalData" in r]
    assert sends and all(isinstance(json.loads(r["transactionalData"]), dict) for r in sends)


def test_a_million_event_type_costs_nothing_until_read():
    table = Dataset(seed=7, events_per_type={"emailSend": 1_000_000}).events["emailSend"]
    march = table.index_range(EXPORT_START + timedelta(days=59), EXPORT_START + timedelta(days=90))
    assert len(table) == 1_000_000 and 80_000 < len(march) < 90_000
    assert table[march.start]["createdAt"] >= "2025-03-01"


@pytest.mark.parametrize(
    "project_type, identifier",
    [
        pytest.param("email", "email", id="email"),
        pytest.param("userId", "userId", id="userId"),
        pytest.param("hybrid", "itblUserId", id="hybrid"),
    ],
)
def test_every_user_carries_the_identifier_of_its_project_type(project_type, identifier):
    users = Dataset(seed=7, project_type=project_type).users
    assert all(identifier in user for user in users)
    assert len({user[identifier] for user in users}) == len(users)


def test_get_fields_lists_exactly_the_paths_users_carry():
    dataset = Dataset(seed=7, project_type="hybrid")

    def paths(value, prefix=""):
        for key, child in value.items():
            yield prefix + key
            if isinstance(child, dict) and dataset.user_fields[prefix + key] != "geo_location":
                yield from paths(child, f"{prefix}{key}.")
            if isinstance(child, list) and child and isinstance(child[0], dict):
                for item in child:
                    yield from paths(item, f"{prefix}{key}.")

    seen = {path for user in dataset.users for path in paths(user)}
    assert seen == set(dataset.user_fields)
    assert {"Industry", "industry", "offers.Intro APR", "offers.intro APR"} <= seen


# ---------------------------------------------------------------- REST shapes
@pytest.mark.parametrize(
    "path, key, attribute",
    [
        pytest.param("/api/channels", "channels", "channels", id="channels"),
        pytest.param("/api/lists", "lists", "lists", id="lists"),
        pytest.param("/api/messageTypes", "messageTypes", "message_types", id="message_types"),
        pytest.param("/api/snippets", "snippets", "snippets", id="snippets"),
        pytest.param("/api/webhooks", "webhooks", "webhooks", id="webhooks"),
        pytest.param("/api/users/getFields", "fields", "user_fields", id="user_fields"),
    ],
)
def test_unpaged_endpoint_serves_the_data_set_under_its_key(emulator, path, key, attribute):
    response = get(emulator, path)
    assert response.status_code == 200
    assert response.json() == {key: getattr(emulator.dataset, attribute)}


def test_campaigns_page_with_absolute_next_page_urls_until_the_last_page(emulator):
    first = get(emulator, "/api/campaigns", page=1, pageSize=5).json()
    assert first["totalCampaignsCount"] == 12 and len(first["campaigns"]) == 5
    assert first["nextPageUrl"] == f"{emulator.url}/api/campaigns?page=2&pageSize=5"
    everything = follow_pages(emulator, f"{emulator.url}/api/campaigns?page=1&pageSize=5", "campaigns")
    assert [c["id"] for c in everything] == sorted(c["id"] for c in emulator.dataset.campaigns)
    last = get(emulator, "/api/campaigns", page=3, pageSize=5).json()
    assert "nextPageUrl" not in last and last["previousPageUrl"].endswith("page=2&pageSize=5")


def test_campaigns_sort_descending_by_updated_at(emulator):
    body = get(emulator, "/api/campaigns", page=1, pageSize=1000, sort="-updatedAt").json()
    updated = [c["updatedAt"] for c in body["campaigns"]]
    assert updated == sorted(updated, reverse=True)


def test_templates_filter_by_type_and_medium_and_some_combinations_are_empty(emulator):
    for template_type, medium in [("Blast", "Email"), *EMPTY_TEMPLATE_COMBOS]:
        body = get(emulator, "/api/templates", templateType=template_type, messageMedium=medium, pageSize=1000).json()
        expected = [
            t["templateId"]
            for t in emulator.dataset.templates
            if (t["templateType"], t["messageMedium"]) == (template_type, medium)
        ]
        assert [t["templateId"] for t in body["templates"]] == expected
        assert body["totalTemplatesCount"] == len(expected)


def test_templates_date_filter_is_on_created_at_half_open(emulator):
    template = emulator.dataset.templates[0]
    created = instant(template["createdAt"])
    start = iterable_time(created).removesuffix(" +00:00")
    end = iterable_time(created + timedelta(seconds=1))
    body = get(emulator, "/api/templates", startDateTime=start, endDateTime=end, pageSize=1000).json()
    assert template["templateId"] in [t["templateId"] for t in body["templates"]]
    body = get(emulator, "/api/templates", endDateTime=start, pageSize=1000).json()
    assert template["templateId"] not in [t["templateId"] for t in body["templates"]]


def test_embedded_templates_are_listed_for_their_medium_and_refused_when_only_the_definitions_media_are_known():
    with Emulator(Dataset(seed=7), rate_limits={}) as emu:
        listed = get(emu, "/api/templates", messageMedium="Embedded", pageSize=1000).json()["templates"]
        assert [t["templateId"] for t in listed] == [t["templateId"] for t in emu.dataset.embedded_templates]
    with Emulator(Dataset(seed=7), rate_limits={}, template_media_in_definition_only=True) as strict:
        refused = get(strict, "/api/templates", messageMedium="Embedded")
        assert (refused.status_code, refused.json()["code"]) == (400, "BadParams")


def test_template_content_is_served_in_the_default_locale_or_asked_one_else_404(emulator):
    with_content = next(
        t for t in emulator.dataset.templates if t["messageMedium"] == "Push" and t["templateId"] % 3 == 0
    )
    body = get(emulator, "/api/templates/push/get", templateId=with_content["templateId"]).json()
    assert (body["templateId"], body["title"], "locale" in body) == (with_content["templateId"], "Back in stock", False)
    in_french = get(emulator, "/api/templates/push/get", templateId=with_content["templateId"], locale="fr").json()
    assert (in_french["locale"], in_french["isDefaultLocale"]) == ("fr", False)
    only_french = next(
        t for t in emulator.dataset.templates if t["messageMedium"] == "Push" and t["templateId"] % 5 == 3
    )
    missing = get(emulator, "/api/templates/push/get", templateId=only_french["templateId"])
    assert (missing.status_code, missing.json()["code"]) == (404, "NotFound")


def test_template_content_of_another_medium_or_without_template_id_is_a_400(emulator):
    email = next(t for t in emulator.dataset.templates if t["messageMedium"] == "Email")
    assert get(emulator, "/api/templates/sms/get", templateId=email["templateId"]).status_code == 400
    assert get(emulator, "/api/templates/sms/get").status_code == 400


def test_an_edited_template_has_new_content_and_updated_at(emulator):
    template = next(t for t in emulator.dataset.templates if t["messageMedium"] == "Email" and t["templateId"] % 5 != 3)
    response = requests.post(
        f"{emulator.url}/_emulator/templates/{template['templateId']}/edit",
        json={"updatedAt": "2025-12-30T00:00:00Z"},
        timeout=10,
    )
    assert response.status_code == 200
    body = get(emulator, "/api/templates/email/get", templateId=template["templateId"]).json()
    assert body["subject"].endswith("(edit 1)") and body["metadata"]["updatedAt"] == "2025-12-30T00:00:00Z"


def test_a_campaign_advances_scheduled_running_finished_with_updated_at_frozen(emulator):
    campaign = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Scheduled")
    updated = campaign["updatedAt"]
    states = [
        requests.post(f"{emulator.url}/_emulator/campaigns/{campaign['id']}/advance", timeout=10).json()[
            "campaignState"
        ]
        for _ in range(2)
    ]
    assert (states, campaign["updatedAt"], campaign["endedAt"] is not None) == (["Running", "Finished"], updated, True)
    stuck = requests.post(f"{emulator.url}/_emulator/campaigns/{campaign['id']}/advance", timeout=10)
    assert (stuck.status_code, stuck.json()["code"]) == (400, "BadParams")


def test_journeys_refuse_page_size_over_50_and_page_through_more_than_50(emulator):
    too_big = get(emulator, "/api/journeys", pageSize=51)
    assert too_big.status_code == 400 and too_big.json()["code"] == "BadParams"
    journeys = follow_pages(emulator, f"{emulator.url}/api/journeys?page=1&pageSize=50", "journeys")
    assert len(journeys) == len(emulator.dataset.journeys) > 50


def test_catalogs_are_wrapped_and_items_bare_by_default(emulator):
    catalogs = get(emulator, "/api/catalogs").json()
    assert catalogs == {
        "msg": "",
        "code": "Success",
        "params": {"catalogNames": [{"name": "products"}, {"name": "stores"}], "totalCatalogsCount": 2},
    }
    items = get(emulator, "/api/catalogs/stores/items", pageSize=2).json()
    assert items["catalogItemsWithProperties"] == emulator.dataset.catalog_items["stores"][:2]
    assert items["totalItemsCount"] == 3
    assert items["nextPageUrl"] == f"{emulator.url}/api/catalogs/stores/items?page=2&pageSize=2"


def test_catalog_wrapping_is_configurable():
    with Emulator(Dataset(seed=7), rate_limits={}, wrapped_catalog_responses=("catalog_items",)) as emu:
        assert "catalogNames" in get(emu, "/api/catalogs").json()
        assert get(emu, "/api/catalogs/stores/items").json()["code"] == "Success"


def test_metadata_follows_next_marker_then_serves_each_value(emulator):
    assert get(emulator, "/api/metadata").json() == {"results": [{"name": "store_hours"}, {"name": "feature_flags"}]}
    first = get(emulator, "/api/metadata/store_hours").json()
    second = get(emulator, "/api/metadata/store_hours", nextMarker=first["nextMarker"]).json()
    keys = [r["key"] for r in first["results"] + second["results"]]
    assert sorted(keys) == sorted(emulator.dataset.metadata_tables["store_hours"]) and "nextMarker" not in second
    value = get(emulator, "/api/metadata/store_hours/monday").json()
    assert value["value"] == {"open": "09:00", "close": "18:00"} and value["table"] == "store_hours"


def test_campaign_metrics_are_csv_with_empty_and_non_numeric_cells(emulator):
    response = get(emulator, "/api/campaigns/metrics", campaignId=[500001, 500005])
    assert response.headers["Content-Type"].startswith("text/csv")
    header, first, second = response.text.splitlines()
    assert header.split(",") == list(METRIC_COLUMNS)
    assert first.startswith("500001,") and ",," in first
    assert second.split(",")[1] == "N/A"


def metric_rows(emu: Emulator, ids: list[int], **dates: str) -> dict[str, dict[str, str]]:
    response = get(emu, "/api/campaigns/metrics", campaignId=ids, **dates)
    assert response.status_code == 200, response.text
    header, *rows = [line.split(",") for line in response.text.splitlines()]
    return {row[0]: dict(zip(header, row, strict=True)) for row in rows}


def test_campaign_metrics_of_each_day_sum_to_the_metrics_of_the_range(emulator):
    running = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Running")
    first = datetime.fromtimestamp(running["startAt"] / 1000, tz=timezone.utc).date()
    days = [first + timedelta(days=n) for n in range(5)]
    whole = metric_rows(
        emulator, [running["id"]], startDateTime=str(days[0]), endDateTime=str(days[-1] + timedelta(days=1))
    )
    daily = [
        metric_rows(emulator, [running["id"]], startDateTime=str(day), endDateTime=str(day + timedelta(days=1)))
        for day in days
    ]
    for column in ("Total Email Sends", "Unique Email Opens (filtered)", "Purchases", "Total Push Sends"):
        assert int(whole[str(running["id"])][column]) == sum(int(row[str(running["id"])][column]) for row in daily)
    cents = sum(round(float(row[str(running["id"])]["Revenue"]) * 100) for row in daily)
    assert round(float(whole[str(running["id"])]["Revenue"]) * 100) == cents > 0


def test_campaign_metrics_have_nothing_before_the_start_or_for_a_draft(emulator):
    running = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Running")
    draft = next(c for c in emulator.dataset.campaigns if c["campaignState"] == "Draft")
    day_before = datetime.fromtimestamp(running["startAt"] / 1000, tz=timezone.utc).date() - timedelta(days=1)
    rows = metric_rows(
        emulator,
        [running["id"], draft["id"]],
        startDateTime=str(day_before),
        endDateTime=str(day_before + timedelta(days=1)),
    )
    assert rows[str(running["id"])]["Total Email Sends"] == "0"
    assert metric_rows(emulator, [draft["id"]])[str(draft["id"])]["Total Email Sends"] == "0"


def test_campaign_ids_can_have_19_digits_and_history_has_the_asked_active_campaigns():
    dataset = Dataset(campaigns=500, active_campaigns=20, campaign_id_digits=19)
    assert all(len(str(c["id"])) == 19 for c in dataset.campaigns) and len(dataset.campaigns) == 500
    states = [c["campaignState"] for c in dataset.campaigns]
    assert sum(state in ("Running", "Recurring", "Scheduled", "Starting") for state in states) == 20
    assert {"Finished", "Draft"} <= set(states)
    with Emulator(dataset, rate_limits={}) as emu:
        rows = metric_rows(emu, [dataset.campaigns[-1]["id"]])
        assert list(rows) == [str(dataset.campaigns[-1]["id"])]


def test_list_users_is_plain_text_one_id_per_line_and_prefers_user_ids_on_request():
    with Emulator(Dataset(seed=7, project_type="hybrid"), rate_limits={}) as emu:
        list_id = emu.dataset.lists[0]["id"]
        members = emu.dataset._list_member_users[list_id]
        emails = get(emu, "/api/lists/getUsers", listId=list_id)
        assert emails.headers["Content-Type"].startswith("text/plain")
        assert emails.text == "".join(f"{u.get('email') or u['userId']}\n" for u in members)
        user_ids = get(emu, "/api/lists/getUsers", listId=list_id, preferUserId="true").text
        assert user_ids == "".join(f"{u.get('userId') or u['email']}\n" for u in members)


@pytest.mark.parametrize("project_type", ["email", "userId", "hybrid"])
def test_list_users_without_prefer_user_id_serves_the_data_sets_list_members(project_type):
    with Emulator(Dataset(seed=7, project_type=project_type), rate_limits={}) as emu:
        for list_id, members in emu.dataset.list_members.items():
            assert get(emu, "/api/lists/getUsers", listId=list_id).text.split() == members


def test_a_list_body_may_end_with_a_blank_line_that_is_not_a_member(emulator):
    second = emulator.dataset.lists[1]["id"]
    body = get(emulator, "/api/lists/getUsers", listId=second).text
    assert body.endswith("\n\n") and body.split() == emulator.dataset.list_members[second]


# ---------------------------------------------------------------- auth, errors, log
@pytest.mark.parametrize("host", ["api.iterable.com", "api.eu.iterable.com"])
def test_both_region_hosts_paths_answer_the_same(emulator, host):
    response = requests.get(
        f"{emulator.url}/api/channels", headers={"Api-Key": emulator.api_key, "Host": host}, timeout=10
    )
    assert response.json() == {"channels": emulator.dataset.channels}


def test_a_request_uri_over_2048_characters_gets_an_html_414(emulator):
    ids = [str(500001 + i % 12) for i in range(300)]
    response = get(emulator, "/api/campaigns/metrics", campaignId=ids)
    assert response.status_code == 414 and response.headers["Content-Type"] == "text/html"
    assert emulator.requests[-1].status == 414


@pytest.mark.parametrize("key", [pytest.param("wrong", id="wrong"), pytest.param(None, id="missing")])
def test_a_wrong_or_missing_key_gets_401_bad_api_key(emulator, key):
    response = get(emulator, "/api/channels", key=key)
    assert response.status_code == 401
    assert response.json() == {"msg": "Invalid API key", "code": "BadApiKey", "params": {"endpoint": "/api/channels"}}


def test_a_read_only_key_reads_rest_endpoints_but_not_the_export(emulator):
    assert get(emulator, "/api/channels", key=emulator.read_only_key).status_code == 200
    response = get(emulator, EXPORT, key=emulator.read_only_key, dataTypeName="emailSend", **WHOLE_YEAR)
    assert response.status_code == 401 and response.json()["code"] == "BadApiKey"


def test_unknown_path_is_404_not_found(emulator):
    response = get(emulator, "/api/nothing")
    assert response.status_code == 404 and response.json()["code"] == "NotFound"


def test_request_log_keeps_path_params_and_status_but_never_the_key(emulator):
    get(emulator, "/api/campaigns", page=1, pageSize=5)
    get(emulator, "/api/channels", key="wrong")
    first, second = emulator.requests
    assert (first.method, first.path, first.params, first.status, first.key_ok) == (
        "GET",
        "/api/campaigns",
        {"page": ["1"], "pageSize": ["5"]},
        200,
        True,
    )
    assert (second.status, second.key_ok) == (401, False)
    assert emulator.api_key not in repr(emulator.requests)


# ---------------------------------------------------------------- export
@pytest.mark.parametrize("data_type", sorted(DATA_TYPES))
def test_export_serves_every_record_of_each_type_for_the_whole_year(emulator, data_type):
    records = export_lines(emulator, data_type)
    assert sorted(records, key=json.dumps) == sorted(emulator.dataset.events[data_type], key=json.dumps)


def test_export_order_is_deterministic_but_not_sorted(emulator):
    first, second = export_lines(emulator, "emailSend"), export_lines(emulator, "emailSend")
    created = [r["createdAt"] for r in first]
    assert first == second and created != sorted(created)


def test_export_window_includes_its_start_and_excludes_its_end(emulator):
    table = emulator.dataset.events["emailSend"]
    moment = EXPORT_START + timedelta(seconds=table.created_second(5))
    at_start = export_lines(
        emulator,
        "emailSend",
        startDateTime=iterable_time(moment),
        endDateTime=iterable_time(moment + timedelta(seconds=1)),
    )
    assert at_start == [table[5]]
    before = export_lines(
        emulator,
        "emailSend",
        startDateTime=iterable_time(moment - timedelta(days=1)),
        endDateTime=iterable_time(moment),
    )
    assert table[5] not in before


def test_the_unsubscribe_type_answers_to_both_spellings(emulator):
    assert export_lines(emulator, "emailUnsubscribe") == export_lines(emulator, "emailUnSubscribe")


def test_users_export_filters_on_profile_updated_at(emulator):
    users = export_lines(emulator, "user", startDateTime="2025-06-01 00:00:00", endDateTime="2025-07-01 00:00:00")
    expected = [u for u in emulator.dataset.users if "2025-06-01" <= u["profileUpdatedAt"] < "2025-07-01"]
    assert users and sorted(users, key=json.dumps) == sorted(expected, key=json.dumps)


def test_export_only_fields_and_omit_fields(emulator):
    only = export_lines(emulator, "emailSend", onlyFields="email,createdAt", **WHOLE_YEAR)
    assert all(set(r) <= {"email", "createdAt"} for r in only)
    omitted = export_lines(emulator, "emailSend", omitFields="transactionalData", **WHOLE_YEAR)
    assert all("transactionalData" not in r for r in omitted)


@pytest.mark.parametrize(
    "params, msg",
    [
        pytest.param(
            {"dataTypeName": "emailSend", "startDateTime": "2025-01-01T00:00:00Z"},
            "Invalid startDateTime: '2025-01-01T00:00:00Z'. Expected format: yyyy-MM-dd HH:mm:ss or "
            "yyyy-MM-dd HH:mm:ss ZZ (e.g. 2025-01-15 10:30:00 +00:00)",
            id="iso-date",
        ),
        pytest.param({"dataTypeName": "nope", **WHOLE_YEAR}, "Invalid dataTypeName: nope", id="unknown-type"),
        pytest.param(WHOLE_YEAR, "Missing required parameter dataTypeName", id="no-type"),
    ],
)
def test_bad_export_parameters_get_400_bad_params(emulator, params, msg):
    response = get(emulator, EXPORT, **params)
    assert response.status_code == 400
    assert response.json() == {"msg": msg, "code": "BadParams", "params": None}


def test_an_export_cache_replays_the_same_body_and_keeps_only_complete_ones(tmp_path):
    with Emulator(Dataset(seed=7), rate_limits={}, export_cache_dir=tmp_path) as emu:
        emu.inject(faults.drop_mid_body(after_lines=2))
        with pytest.raises(requests.exceptions.ChunkedEncodingError):
            get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR)
        assert list(tmp_path.iterdir()) == []
        rendered = get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).text
        replayed = get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).text
        assert replayed == rendered and len(list(tmp_path.iterdir())) == 1


def test_warm_export_renders_a_window_ahead_for_the_same_query(tmp_path):
    with Emulator(Dataset(seed=7), rate_limits={}, export_cache_dir=tmp_path) as emu:
        path = emu.warm_export("emailSend", "2025-01-01 00:00:00", "2026-01-01 00:00:00 +00:00")
        assert path.read_bytes().decode() == get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).text
        wider = get(emu, EXPORT, dataTypeName="emailSend", startDateTime="2024-12-01 00:00:00").text
        assert wider == path.read_bytes().decode() and list(tmp_path.iterdir()) == [path]


# ---------------------------------------------------------------- rate limits
def test_past_the_export_limit_the_emulator_answers_429_with_iterables_body():
    with Emulator(Dataset(seed=7), rate_limits={"export": (2, 60)}) as emu:
        statuses = [get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).json() == {
            "msg": "Exceeded rate limit for endpoint: /api/export/data.json, project: 8575",
            "code": "RateLimitExceeded",
            "params": {},
        }
        assert get(emu, "/api/channels").status_code == 200


def test_the_default_limit_is_counted_per_endpoint():
    with Emulator(Dataset(seed=7), rate_limits={"default": (1, 60)}, clock=lambda: 0.0) as emu:
        statuses = [get(emu, path).status_code for path in ("/api/channels", "/api/lists", "/api/channels")]
        assert statuses == [200, 200, 429]


def test_the_rate_window_slides_with_the_injected_clock():
    now = [0.0]
    with Emulator(Dataset(seed=7), rate_limits={"export": (1, 60)}, clock=lambda: now[0]) as emu:
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code == 200
        now[0] = 59.0
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code == 429
        now[0] = 60.0
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code == 429
        now[0] = 60.001
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code == 200


@pytest.mark.parametrize(
    "arrivals, allowed",
    [
        pytest.param([0.0, 30.0, 60.0], [True, True, False], id="exactly-a-window-later-is-still-inside"),
        pytest.param([0.0, 30.0, 60.001], [True, True, True], id="just-past-the-window-is-allowed"),
        pytest.param([0.0, 30.0, 59.0, 90.0], [True, True, False, True], id="refused-calls-do-not-count"),
        pytest.param([30.0, 0.0, 60.0], [True, True, False], id="counted-by-arrival-even-when-checked-out-of-order"),
    ],
)
def test_the_rate_limiter_is_a_strict_sliding_window_on_arrival_time(arrivals, allowed):
    limiter = RateLimiter({"export": (2, 60)}, clock=lambda: 1_000.0)
    assert [limiter.allow("export", "export", at) for at in arrivals] == allowed


def test_the_arrival_is_stamped_before_the_handler_works():
    now = [0.0]
    with Emulator(Dataset(seed=7), rate_limits={"export": (1, 60)}, clock=lambda: now[0]) as emu:
        # The handler of the first request takes 30 s on the emulator's clock (the stall advances it).
        emu.inject(faults.stall(seconds=30, wait=lambda seconds: now.__setitem__(0, now[0] + seconds)))
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code == 200
        now[0] = 60.5  # 60.5 s after the first arrived, 30.5 s after it was answered
        assert get(emu, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).status_code == 200


# ---------------------------------------------------------------- faults
def test_error_500_hits_only_the_matching_window_and_only_the_given_times(emulator):
    emulator.inject(faults.error_500(times=1, match={"startDateTime": "2025-01-01 00:00:00"}))
    other = get(emulator, EXPORT, dataTypeName="emailSend", startDateTime="2025-02-01 00:00:00")
    failed = get(emulator, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR)
    retried = get(emulator, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR)
    assert [other.status_code, failed.status_code, retried.status_code] == [200, 500, 200]
    assert failed.json() == {"msg": faults.GENERIC_ERROR_MSG, "code": "GenericError", "params": None}


def test_first_attempt_fails_answers_500_once_per_distinct_url_whatever_the_parameter_order(emulator):
    emulator.inject(faults.first_attempt_fails())
    january = {
        "dataTypeName": "emailSend",
        "startDateTime": "2025-01-01 00:00:00",
        "endDateTime": "2025-02-01 00:00:00",
    }
    reordered = dict(reversed(list(january.items())))
    february = {**january, "startDateTime": "2025-02-01 00:00:00", "endDateTime": "2025-03-01 00:00:00"}
    statuses = [get(emulator, EXPORT, **params).status_code for params in (january, reordered, february, february)]
    assert statuses == [500, 200, 500, 200]
    assert get(emulator, EXPORT, dataTypeName="emailOpen", **WHOLE_YEAR).status_code == 500


def test_first_attempt_fails_combines_with_bodies_cut_after_n_lines(emulator):
    emulator.inject(faults.first_attempt_fails())
    emulator.inject(faults.drop_mid_body(after_lines=5, times=None, cut_only_longer=True))
    year, short = (
        {"dataTypeName": "emailSend", **WHOLE_YEAR},
        {"dataTypeName": "emailSend", "startDateTime": "2025-01-01 00:00:00", "endDateTime": "2025-02-01 00:00:00"},
    )
    assert get(emulator, EXPORT, **year).status_code == 500
    response = requests.get(
        f"{emulator.url}{EXPORT}", params=year, headers={"Api-Key": emulator.api_key}, stream=True, timeout=10
    )
    lines: list[bytes] = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        lines.extend(response.iter_lines())
    assert len(lines) == 5 and all(json.loads(line) for line in lines)
    assert get(emulator, EXPORT, **short).status_code == 500
    expected = [event for event in emulator.dataset.events["emailSend"] if event["createdAt"] < "2025-02-01"]
    assert 0 < len(expected) <= 5
    assert len(
        export_lines(emulator, "emailSend", startDateTime=short["startDateTime"], endDateTime=short["endDateTime"])
    ) == len(expected)


def test_rate_limited_fault_sends_retry_after(emulator):
    emulator.inject(faults.rate_limited(retry_after=3))
    response = get(emulator, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR)
    assert response.status_code == 429 and response.headers["Retry-After"] == "3"
    assert response.json()["code"] == "RateLimitExceeded"


def collect_lines(response: requests.Response, into: list[bytes]) -> None:
    """Append each line of `response` to `into` as it arrives, so the lines before a failure are kept."""
    for line in response.iter_lines():
        into.append(line)


def test_drop_mid_body_cuts_the_connection_after_n_lines(emulator):
    emulator.inject(faults.drop_mid_body(after_lines=3))
    response = requests.get(
        f"{emulator.url}{EXPORT}",
        params={"dataTypeName": "emailSend", **WHOLE_YEAR},
        headers={"Api-Key": emulator.api_key},
        stream=True,
        timeout=10,
    )
    lines: list[bytes] = []
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        collect_lines(response, into=lines)
    assert len(lines) == 3 and all(json.loads(line) for line in lines)
    assert len(export_lines(emulator, "emailSend")) == len(emulator.dataset.events["emailSend"])


def test_stall_waits_before_the_first_byte(emulator):
    waited = []
    emulator.inject(faults.stall(seconds=120, wait=waited.append))
    assert len(export_lines(emulator, "emailSend")) == 12 and waited == [120]


def test_malformed_line_inserts_a_line_that_is_not_json(emulator):
    emulator.inject(faults.malformed_line(after_lines=2))
    lines = get(emulator, EXPORT, dataTypeName="emailSend", **WHOLE_YEAR).text.splitlines()
    assert len(lines) == 13
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[2])


def test_faults_can_be_injected_through_the_loopback_control_endpoint(emulator):
    spec = {"fault": "error_500", "path": "/api/channels", "times": 2}
    assert requests.post(f"{emulator.url}/_emulator/faults", json=spec, timeout=10).status_code == 200
    statuses = [get(emulator, "/api/channels").status_code for _ in range(3)]
    assert statuses == [500, 500, 200]
