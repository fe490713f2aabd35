"""REST streams: the exact requests (path, parameters, Api-Key header), the exact records, paging and state.

Families (manifest `definitions`): rest_stream (one GET, records under a key), paged_stream (page/pageSize,
following the `page` of nextPageUrl), wrapped_paged_stream (catalogs: bare or `{msg, code, params}` bodies), and
the substreams list_users, metadata, catalog_items and campaigns_metrics over their parents.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest
from airbyte_cdk.models import AirbyteStreamStatus, SyncMode
from airbyte_cdk.test.mock_http import HttpMocker
from airbyte_cdk.test.state_builder import StateBuilder
from freezegun import freeze_time

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import emitted, read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import (
    a_campaign,
    a_catalog,
    a_catalog_item,
    a_channel,
    a_dated_campaign,
    a_journey,
    a_list,
    a_message_type,
    a_metadata_key,
    a_snippet,
    a_template,
    a_webhook,
    csv_response,
    error_response,
    json_response,
    next_page_url,
    records_response,
    text_response,
    wrapped_records_response,
)

TEMPLATE_TYPES = ["Base", "Blast", "Triggered", "Workflow"]
MESSAGE_MEDIUMS = ["Email", "Push", "InApp", "SMS"]


@pytest.mark.parametrize(
    "stream, path, records_key, make_record",
    [
        pytest.param("channels", "channels", "channels", a_channel, id="channels"),
        pytest.param("lists", "lists", "lists", a_list, id="lists"),
        pytest.param(
            "message_types",
            "messageTypes",
            "messageTypes",
            a_message_type,
            id="message_types",
        ),
        pytest.param("snippets", "snippets", "snippets", a_snippet, id="snippets"),
        pytest.param("webhooks", "webhooks", "webhooks", a_webhook, id="webhooks"),
    ],
)
def test_given_one_page_endpoint_when_read_then_each_item_of_the_envelope_is_a_record_timestamps_in_rfc3339(
    http_mocker: HttpMocker,
    stream: str,
    path: str,
    records_key: str,
    make_record: Callable[[int], dict[str, Any]],
) -> None:
    items = [make_record(1), make_record(2)]
    http_mocker.get(a_request(path).build(), records_response(records_key, items))

    output = read_stream(stream, a_config().build())

    assert records_of(output) == [emitted(item) for item in items]


def test_given_user_fields_when_read_then_one_record_per_field_with_its_type(
    http_mocker: HttpMocker,
) -> None:
    http_mocker.get(
        a_request("users/getFields").build(),
        json_response(
            {
                "fields": {
                    "email": "string",
                    "profile.age": "long",
                    "shoppingCartItems": "nested",
                }
            }
        ),
    )

    output = read_stream("user_fields", a_config().build())

    assert records_of(output) == [
        {"name": "email", "type": "string"},
        {"name": "profile.age", "type": "long"},
        {"name": "shoppingCartItems", "type": "nested"},
    ]


class TestPagedStreams:
    """paged_stream: page=1.. with pageSize and sort=id, then the `page` named by each nextPageUrl."""

    @pytest.mark.parametrize(
        "stream, records_key, page_size, make_record",
        [
            pytest.param("campaigns", "campaigns", 1000, a_campaign, id="campaigns"),
        ],
    )
    def test_given_next_page_url_when_read_then_next_page_is_requested_until_no_link(
        self,
        http_mocker: HttpMocker,
        stream: str,
        records_key: str,
        page_size: int,
        make_record: Callable[[int], dict[str, Any]],
    ) -> None:
        http_mocker.get(
            a_paged_request(records_key, 1, page_size, sort="id").build(),
            records_response(
                records_key,
                [make_record(1)],
                next_page_url(records_key, 2, page_size, sort="id"),
            ),
        )
        http_mocker.get(
            a_paged_request(records_key, 2, page_size, sort="id").build(),
            records_response(records_key, [make_record(2)]),
        )

        output = read_stream(stream, a_config().build())

        assert [record["id"] for record in records_of(output)] == [1, 2]

    def test_given_next_page_url_naming_the_same_page_when_read_then_stream_fails_instead_of_looping(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response(
                "campaigns",
                [a_campaign(1)],
                next_page_url("campaigns", 1, 1000, sort="id"),
            ),
        )

        output = read_stream("campaigns", a_config().build(), expect_failure=True)

        assert output.errors[0].trace.error.message == (
            "Stream campaigns: Iterable answered GET /api/campaigns with next page 1 after page 1; "
            "stopping instead of reading pages in a loop."
        )


class TestJourneys:
    """journeys: pageSize 50; Iterable lists archived journeys only when asked with state=Archived."""

    def test_given_active_and_archived_journeys_when_read_then_both_lists_are_read_page_by_page(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("journeys", 1, 50, sort="id").build(),
            records_response("journeys", [a_journey(1)], next_page_url("journeys", 2, 50, sort="id")),
        )
        http_mocker.get(
            a_paged_request("journeys", 2, 50, sort="id").build(),
            records_response("journeys", [a_journey(2)]),
        )
        http_mocker.get(
            a_paged_request("journeys", 1, 50, sort="id").with_param("state", "Archived").build(),
            records_response("journeys", [{**a_journey(3), "isArchived": True}]),
        )

        output = read_stream("journeys", a_config().build())

        assert sorted(record["id"] for record in records_of(output)) == [1, 2, 3]


class TestCampaignsIncremental:
    """campaigns, incremental on updatedAt (epoch ms): every page is read, records not after the state dropped
    unless their campaign was open when last emitted (`open_campaign_ids`, test_campaign_states.py)."""

    def test_given_an_epoch_ms_state_of_0_1_0_when_read_then_every_campaign_once_and_state_in_rfc3339(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response(
                "campaigns",
                [
                    a_campaign(1, updated_at=1_704_000_000_000),
                    a_campaign(2, updated_at=1_706_000_000_000),
                    a_campaign(3, updated_at=1_705_000_000_000),
                ],
            ),
        )
        state = StateBuilder().with_stream_state("campaigns", {"updatedAt": "1704500000000"}).build()

        output = read_stream("campaigns", a_config().build(), SyncMode.incremental, state)

        # 0.1.0 did not record which campaigns were open when emitted: every one is emitted once more.
        assert [record["id"] for record in records_of(output)] == [1, 2, 3]
        assert output.most_recent_state.stream_state.__dict__ == {
            "updatedAt": "2024-01-23T08:53:20.000Z",
            "open_campaign_ids": [],
        }

    def test_given_no_state_when_read_then_campaigns_older_than_start_date_are_kept(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", [a_campaign(1, updated_at=1_500_000_000_000)]),
        )

        output = read_stream(
            "campaigns",
            a_config().with_start_date("2024-01-01").build(),
            SyncMode.incremental,
        )

        assert [record["id"] for record in records_of(output)] == [1]
        assert output.most_recent_state.stream_state.__dict__ == {
            "updatedAt": "2017-07-14T02:40:00.000Z",
            "open_campaign_ids": [],
        }

    def test_given_an_rfc3339_state_when_read_then_campaigns_up_to_that_instant_are_dropped_to_the_millisecond(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response(
                "campaigns",
                [
                    a_campaign(1, updated_at=1_706_000_000_122),
                    a_campaign(2, updated_at=1_706_000_000_124),
                    a_campaign(3, updated_at=1_706_000_000_123),
                ],
            ),
        )
        state = (
            StateBuilder()
            .with_stream_state("campaigns", {"updatedAt": "2024-01-23T08:53:20.123Z", "open_campaign_ids": []})
            .build()
        )

        output = read_stream("campaigns", a_config().build(), SyncMode.incremental, state)

        assert [(r["id"], r["updatedAt"]) for r in records_of(output)] == [
            (2, "2024-01-23T08:53:20.124Z"),
            (3, "2024-01-23T08:53:20.123Z"),
        ]
        assert output.most_recent_state.stream_state.__dict__ == {
            "updatedAt": "2024-01-23T08:53:20.124Z",
            "open_campaign_ids": [],
        }


class TestTimestampForms:
    """Every REST timestamp form Iterable sends becomes one RFC 3339 UTC string in the record."""

    def test_given_epoch_ms_with_milliseconds_when_read_campaigns_then_every_timestamp_field_is_rfc3339(
        self, http_mocker: HttpMocker
    ) -> None:
        campaign = {
            **a_campaign(1, updated_at=1_706_000_000_500),
            "createdAt": 1_700_000_000_000,
            "startAt": 1_706_000_100_000,
            "endedAt": 1_706_000_200_999,
        }
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(), records_response("campaigns", [campaign])
        )

        [record] = records_of(read_stream("campaigns", a_config().build()))

        assert {key: record[key] for key in ("createdAt", "updatedAt", "startAt", "endedAt")} == {
            "createdAt": "2023-11-14T22:13:20Z",
            "updatedAt": "2024-01-23T08:53:20.5Z",
            "startAt": "2024-01-23T08:55:00Z",
            "endedAt": "2024-01-23T08:56:40.999Z",
        }

    def test_given_iso_snippet_timestamps_with_an_offset_when_read_then_utc(self, http_mocker: HttpMocker) -> None:
        snippet = {**a_snippet(1), "createdAt": "2025-03-04T05:06:07.250+02:00", "updatedAt": "2025-03-04T05:06:07Z"}
        http_mocker.get(a_request("snippets").build(), records_response("snippets", [snippet]))

        [record] = records_of(read_stream("snippets", a_config().build()))

        assert (record["createdAt"], record["updatedAt"]) == ("2025-03-04T03:06:07.25Z", "2025-03-04T05:06:07Z")

    def test_given_journey_draft_timestamps_when_read_then_nested_ones_are_rfc3339_too(
        self, http_mocker: HttpMocker
    ) -> None:
        journey = {**a_journey(1), "createdAt": 1_700_000_000_000, "draft": {"id": 9, "updatedAt": 1_700_000_001_000}}
        http_mocker.get(a_paged_request("journeys", 1, 50, sort="id").build(), records_response("journeys", [journey]))
        http_mocker.get(
            a_paged_request("journeys", 1, 50, sort="id").with_param("state", "Archived").build(),
            records_response("journeys", []),
        )

        [record] = records_of(read_stream("journeys", a_config().build()))

        assert (record["createdAt"], record["draft"]) == (
            "2023-11-14T22:13:20Z",
            {"id": 9, "updatedAt": "2023-11-14T22:13:21Z"},
        )

    def test_given_date_time_templates_and_an_epoch_ms_state_when_read_then_instants_are_compared(
        self, http_mocker: HttpMocker
    ) -> None:
        _register_templates(
            http_mocker,
            {
                ("Base", "Email"): [
                    records_response(
                        "templates",
                        [
                            {**a_template(1), "updatedAt": "2024-01-01T00:59:59+01:00"},
                            {**a_template(2), "updatedAt": "2024-01-01T01:00:01+01:00"},
                        ],
                    )
                ]
            },
        )
        base_email = {"templateType": "Base", "messageMedium": "Email"}
        state = (
            StateBuilder()
            .with_stream_state(
                "templates", {"states": [{"partition": base_email, "cursor": {"updatedAt": "1704067200000"}}]}
            )
            .build()
        )

        output = read_stream("templates", a_config().build(), SyncMode.incremental, state)

        assert [(r["templateId"], r["updatedAt"]) for r in records_of(output)] == [(2, "2024-01-01T00:00:01Z")]
        assert {"partition": base_email, "cursor": {"updatedAt": "2024-01-01T00:00:01.000Z"}} in (
            output.most_recent_state.stream_state.__dict__["states"]
        )


def _register_templates(http_mocker: HttpMocker, pages: dict[tuple, list[Any]]) -> None:
    """Every templateType × messageMedium request; `pages[(type, medium)]` lists that partition's responses."""
    for template_type in TEMPLATE_TYPES:
        for medium in MESSAGE_MEDIUMS:
            responses = pages.get((template_type, medium), [records_response("templates", [])])
            for page, response in enumerate(responses, start=1):
                request = a_paged_request("templates", page, 1000).with_param("templateType", template_type)
                http_mocker.get(request.with_param("messageMedium", medium).build(), response)


class TestTemplates:
    """templates: one partition per templateType × messageMedium; records carry both; updatedAt client-side."""

    def test_given_templates_in_two_partitions_when_read_then_records_carry_their_type_and_medium(
        self, http_mocker: HttpMocker
    ) -> None:
        _register_templates(
            http_mocker,
            {
                ("Base", "Email"): [
                    records_response(
                        "templates",
                        [a_template(1)],
                        next_page_url("templates", 2, 1000),
                    ),
                    records_response("templates", [a_template(2)]),
                ],
                ("Workflow", "SMS"): [records_response("templates", [a_template(3)])],
            },
        )

        output = read_stream("templates", a_config().build())

        assert sorted(records_of(output), key=lambda r: r["templateId"]) == [
            {**emitted(a_template(1)), "templateType": "Base", "messageMedium": "Email"},
            {**emitted(a_template(2)), "templateType": "Base", "messageMedium": "Email"},
            {**emitted(a_template(3)), "templateType": "Workflow", "messageMedium": "SMS"},
        ]

    def test_given_state_when_read_incrementally_then_templates_not_updated_since_are_dropped(
        self, http_mocker: HttpMocker
    ) -> None:
        _register_templates(
            http_mocker,
            {
                ("Base", "Email"): [
                    records_response(
                        "templates",
                        [
                            a_template(1, 1_700_000_000_000),
                            a_template(2, 1_706_000_000_000),
                        ],
                    )
                ]
            },
        )
        state = (
            StateBuilder()
            .with_stream_state(
                "templates",
                {
                    "states": [
                        {
                            "partition": {
                                "templateType": "Base",
                                "messageMedium": "Email",
                            },
                            "cursor": {"updatedAt": "1704000000000"},
                        }
                    ]
                },
            )
            .build()
        )

        output = read_stream("templates", a_config().build(), SyncMode.incremental, state)

        assert [record["templateId"] for record in records_of(output)] == [2]
        final_states = output.most_recent_state.stream_state.__dict__["states"]
        assert {
            "partition": {"messageMedium": "Email", "templateType": "Base"},
            "cursor": {"updatedAt": "2024-01-23T08:53:20.000Z"},
        } in final_states


class TestCatalogs:
    """catalogs and catalog_items accept Iterable's bare body and the one wrapped in {msg, code, params}."""

    def test_given_wrapped_catalog_pages_when_read_then_names_of_every_page(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            a_paged_request("catalogs", 1, 1000).build(),
            wrapped_records_response("catalogNames", [a_catalog("shoes")], next_page_url("catalogs", 2, 1000)),
        )
        http_mocker.get(
            a_paged_request("catalogs", 2, 1000).build(),
            records_response("catalogNames", [a_catalog("hats")]),
        )

        output = read_stream("catalogs", a_config().build())

        assert records_of(output) == [{"name": "shoes"}, {"name": "hats"}]

    def test_given_two_catalogs_when_read_items_then_items_of_each_catalog_across_pages(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("catalogs", 1, 1000).build(),
            records_response("catalogNames", [a_catalog("shoes"), a_catalog("hats")]),
        )
        http_mocker.get(
            a_paged_request("catalogs/shoes/items", 1, 1000).build(),
            wrapped_records_response(
                "catalogItemsWithProperties",
                [a_catalog_item("shoes", "s1")],
                next_page_url("catalogs/shoes/items", 2, 1000),
            ),
        )
        http_mocker.get(
            a_paged_request("catalogs/shoes/items", 2, 1000).build(),
            records_response("catalogItemsWithProperties", [a_catalog_item("shoes", "s2")]),
        )
        http_mocker.get(
            a_paged_request("catalogs/hats/items", 1, 1000).build(),
            records_response("catalogItemsWithProperties", [a_catalog_item("hats", "h1")]),
        )

        output = read_stream("catalog_items", a_config().build())

        assert sorted(records_of(output), key=lambda r: r["itemId"]) == [
            emitted(a_catalog_item("hats", "h1")),
            emitted(a_catalog_item("shoes", "s1")),
            emitted(a_catalog_item("shoes", "s2")),
        ]

    def test_given_state_when_read_items_incrementally_then_older_items_dropped_and_state_per_catalog(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("catalogs", 1, 1000).build(),
            records_response("catalogNames", [a_catalog("shoes")]),
        )
        http_mocker.get(
            a_paged_request("catalogs/shoes/items", 1, 1000).build(),
            records_response(
                "catalogItemsWithProperties",
                [
                    a_catalog_item("shoes", "old", 1_700_000_000_000),
                    a_catalog_item("shoes", "new", 1_706_000_000_000),
                ],
            ),
        )
        shoes = {"catalog_name": "shoes", "parent_slice": {}}
        state = (
            StateBuilder()
            .with_stream_state(
                "catalog_items",
                {
                    "states": [
                        {
                            "partition": shoes,
                            "cursor": {"lastModified": "1704000000000"},
                        }
                    ]
                },
            )
            .build()
        )

        output = read_stream("catalog_items", a_config().build(), SyncMode.incremental, state)

        assert [record["itemId"] for record in records_of(output)] == ["new"]
        assert output.most_recent_state.stream_state.__dict__["states"] == [
            {"partition": shoes, "cursor": {"lastModified": "2024-01-23T08:53:20.000Z"}}
        ]


class TestListUsers:
    """list_users: one plain-text getUsers per list, one member per line, blank lines skipped, 5/min budget."""

    def test_given_two_lists_when_read_then_one_record_per_member_line_keyed_by_list(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_request("lists").build(),
            records_response("lists", [a_list(7), a_list(8)]),
        )
        http_mocker.get(
            a_request("lists/getUsers").with_param("listId", 7).build(),
            text_response(["a@x.com", "", "b@x.com"]),
        )
        http_mocker.get(
            a_request("lists/getUsers").with_param("listId", 8).build(),
            text_response(["a@x.com"]),
        )

        output = read_stream("list_users", a_config().build())

        assert sorted(records_of(output), key=lambda r: (r["listId"], r["email"])) == [
            {"listId": 7, "email": "a@x.com"},
            {"listId": 7, "email": "b@x.com"},
            {"listId": 8, "email": "a@x.com"},
        ]

    def test_given_user_id_project_when_read_then_prefer_user_id_is_asked_and_every_non_blank_line_is_a_user_id(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(a_request("lists").build(), records_response("lists", [a_list(7)]))
        http_mocker.get(
            a_request("lists/getUsers").with_param("listId", 7).with_param("preferUserId", "true").build(),
            text_response(["user-1", "", "0", "None"]),
        )

        output = read_stream("list_users", a_config().with_project_type("userId").build())

        assert records_of(output) == [
            {"listId": 7, "userId": "user-1"},
            {"listId": 7, "userId": "0"},
            {"listId": 7, "userId": "None"},
        ]

    def test_given_list_deleted_after_listing_when_read_then_its_members_are_skipped_with_a_warning(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(a_request("lists").build(), records_response("lists", [a_list(7), a_list(8)]))
        http_mocker.get(a_request("lists/getUsers").with_param("listId", 7).build(), text_response(["a@x.com"]))
        http_mocker.get(
            a_request("lists/getUsers").with_param("listId", 8).build(),
            error_response(404, "NotFound", "List 8 does not exist"),
        )

        output = read_stream("list_users", a_config().build())

        assert records_of(output) == [{"listId": 7, "email": "a@x.com"}]
        assert output.get_stream_statuses("list_users")[-1] == AirbyteStreamStatus.COMPLETE
        assert warnings_of(output) == [
            "Skipping https://api.iterable.com/api/lists/getUsers in stream list_users: Iterable no longer has it "
            "(NotFound: List 8 does not exist); it was probably deleted during the sync."
        ]


class TestMetadata:
    """metadata: tables → keys of each table (following nextMarker) → one value per key."""

    def test_given_keys_on_two_marker_pages_when_read_then_one_record_per_key_with_its_value(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_request("metadata").build(),
            json_response({"results": [{"name": "stores"}]}),
        )
        http_mocker.get(
            a_request("metadata/stores").build(),
            json_response(
                {
                    "results": [a_metadata_key("stores", "berlin")],
                    "nextMarker": "lisbon",
                }
            ),
        )
        http_mocker.get(
            a_request("metadata/stores").with_param("nextMarker", "lisbon").build(),
            json_response({"results": [a_metadata_key("stores", "lisbon")]}),
        )
        for key in ("berlin", "lisbon"):
            http_mocker.get(
                a_request(f"metadata/stores/{key}").build(),
                json_response({**a_metadata_key("stores", key), "value": {"city": key.title()}}),
            )

        output = read_stream("metadata", a_config().build())

        assert sorted(records_of(output), key=lambda r: r["key"]) == [
            {**emitted(a_metadata_key("stores", "berlin")), "value": {"city": "Berlin"}},
            {**emitted(a_metadata_key("stores", "lisbon")), "value": {"city": "Lisbon"}},
        ]


METRIC_HEADER = ["id", "Total Email Sends"]


class TestCampaignsMetrics:
    """campaigns_metrics: CSV for URL-sized batches of campaign ids; snake_cased columns, one type per column."""

    def test_given_150_campaigns_with_19_digit_ids_when_read_then_batches_of_63_63_and_24_fit_2048_characters(
        self, http_mocker: HttpMocker
    ) -> None:
        ids = [10**18 + n for n in range(150)]
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", [a_campaign(i) for i in ids]),
        )
        # 63 ids make a URL of 2,027 characters on the EU host (2,024 here on the US host); 64 would be 2,058.
        for batch in (ids[:63], ids[63:126], ids[126:]):
            http_mocker.get(
                a_request("campaigns/metrics")
                .with_param("campaignId", batch)
                .with_param("startDateTime", "2024-01-01")
                .build(),
                csv_response(METRIC_HEADER, [[i, 1] for i in batch]),
            )

        output = read_stream("campaigns_metrics", a_config().build())

        assert [record["id"] for record in records_of(output)] == ids

    @freeze_time("2024-06-02T03:04:05Z")
    def test_given_csv_cells_when_read_then_numbers_typed_and_text_cells_null_with_their_text_kept(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", [a_campaign(5)]),
        )
        http_mocker.get(
            a_request("campaigns/metrics")
            .with_param("campaignId", [5])
            .with_param("startDateTime", "2024-01-01")
            .build(),
            csv_response(
                [
                    "id",
                    "Total Email Sends",
                    "Revenue",
                    "Unique Email Opens (filtered)",
                    "Purchases / M (Email)",
                    "Average Order Value",
                    "Purchases",
                ],
                [[5, 120, "19.5", "", "N/A", "nan", "2.5"]],
            ),
        )

        output = read_stream("campaigns_metrics", a_config().build())

        assert records_of(output) == [
            {
                "id": 5,
                "total_email_sends": 120,
                "revenue": 19.5,
                "_non_numeric_cells": {"purchases_m_email": "N/A", "average_order_value": "nan", "purchases": "2.5"},
                "synced_at": "2024-06-02T03:04:05Z",
            }
        ]

    @freeze_time("2024-07-01T00:00:00Z")
    def test_given_end_date_when_read_then_metrics_are_asked_for_start_to_end_dates(
        self, http_mocker: HttpMocker
    ) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", [a_campaign(5)]),
        )
        http_mocker.get(
            a_request("campaigns/metrics")
            .with_param("campaignId", [5])
            .with_param("startDateTime", "2024-01-01")
            .with_param("endDateTime", "2024-06-30")
            .build(),
            csv_response(["id", "Revenue"], [[5, 1]]),
        )

        output = read_stream(
            "campaigns_metrics",
            a_config().with_end_date("2024-06-30T12:00:00Z").build(),
        )

        assert records_of(output) == [{"id": 5, "revenue": 1, "synced_at": "2024-07-01T00:00:00Z"}]

    def test_given_state_when_incremental_then_only_running_recently_ended_and_new_campaigns_and_state_is_the_sync_time(
        self, http_mocker: HttpMocker
    ) -> None:
        campaigns = [
            a_dated_campaign(1, "Running", "2024-01-01T00:00:00Z", started="2024-01-02T00:00:00Z"),
            a_dated_campaign(2, "Finished", "2024-01-01T00:00:00Z", "2024-05-01T00:00:00Z", "2024-05-20T00:00:00Z"),
            a_dated_campaign(3, "Finished", "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
            a_dated_campaign(4, "Draft", "2024-06-01T08:00:00Z"),
            a_dated_campaign(5, "Draft", "2024-01-01T00:00:00Z"),
            {**a_campaign(6), "campaignState": "Recurring", "createdAt": 1_704_067_200_000},
        ]
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", campaigns),
        )
        http_mocker.get(
            a_request("campaigns/metrics")
            .with_param("campaignId", [1, 2, 4, 6])
            .with_param("startDateTime", "2024-01-01")
            .build(),
            csv_response(METRIC_HEADER, [[i, 7] for i in (1, 2, 4, 6)]),
        )
        state = StateBuilder().with_stream_state("campaigns_metrics", {"synced_at": "2024-06-01T00:00:00Z"}).build()
        before = datetime.now(UTC).replace(microsecond=0)

        output = read_stream("campaigns_metrics", a_config().build(), SyncMode.incremental, state)

        assert [record["id"] for record in records_of(output)] == [1, 2, 4, 6]
        synced_at = output.most_recent_state.stream_state.__dict__["synced_at"]
        assert before <= datetime.strptime(synced_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= datetime.now(UTC)

    def test_given_metrics_refused_when_incremental_then_state_does_not_move(self, http_mocker: HttpMocker) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", [a_dated_campaign(1, "Running", "2024-01-01T00:00:00Z")]),
        )
        http_mocker.get(
            a_request("campaigns/metrics")
            .with_param("campaignId", [1])
            .with_param("startDateTime", "2024-01-01")
            .build(),
            error_response(403, "Forbidden", "This API key cannot read campaigns/metrics"),
        )
        state = StateBuilder().with_stream_state("campaigns_metrics", {"synced_at": "2024-06-01T00:00:00Z"}).build()

        output = read_stream("campaigns_metrics", a_config().build(), SyncMode.incremental, state)

        assert records_of(output) == []
        assert output.most_recent_state.stream_state.__dict__ == {"synced_at": "2024-06-01T00:00:00Z"}


class TestCampaignsMetricsDaily:
    """campaigns_metrics_daily: one request per day and batch, for the campaigns active that day."""

    CAMPAIGNS: ClassVar[list[dict[str, Any]]] = [
        a_dated_campaign(1, "Running", "2024-04-01T00:00:00Z", started="2024-05-01T09:00:00Z"),
        # endedAt + 15 days = 2024-06-02: active on 06-01 and 06-02 only.
        a_dated_campaign(2, "Finished", "2024-04-01T00:00:00Z", "2024-05-10T00:00:00Z", "2024-05-18T10:00:00Z"),
        a_dated_campaign(3, "Finished", "2024-04-01T00:00:00Z", "2024-03-01T00:00:00Z", "2024-03-02T00:00:00Z"),
        a_dated_campaign(4, "Draft", "2024-04-01T00:00:00Z"),
        # Starts on 06-02.
        a_dated_campaign(5, "Scheduled", "2024-04-01T00:00:00Z", started="2024-06-02T12:00:00Z"),
    ]

    def mock_days(self, http_mocker: HttpMocker, days: dict[str, list[int]]) -> None:
        http_mocker.get(
            a_paged_request("campaigns", 1, 1000, sort="id").build(),
            records_response("campaigns", self.CAMPAIGNS),
        )
        for day, ids in days.items():
            following = f"{day[:8]}{int(day[8:]) + 1:02d}"
            http_mocker.get(
                a_request("campaigns/metrics")
                .with_param("campaignId", ids)
                .with_param("startDateTime", day)
                .with_param("endDateTime", following)
                .build(),
                csv_response(METRIC_HEADER, [[i, int(day[8:])] for i in ids]),
            )

    def test_given_first_sync_then_last_daily_days_each_for_its_active_campaigns_and_state_is_the_last_day(
        self, http_mocker: HttpMocker
    ) -> None:
        self.mock_days(http_mocker, {"2024-06-01": [1, 2], "2024-06-02": [1, 2, 5], "2024-06-03": [1, 5]})
        config = {**a_config().with_end_date("2024-06-04T00:00:00Z").build(), "campaign_metrics_daily_days": 3}

        output = read_stream("campaigns_metrics_daily", config, SyncMode.incremental)

        assert records_of(output) == [
            {"id": 1, "total_email_sends": 1, "date": "2024-06-01"},
            {"id": 2, "total_email_sends": 1, "date": "2024-06-01"},
            {"id": 1, "total_email_sends": 2, "date": "2024-06-02"},
            {"id": 2, "total_email_sends": 2, "date": "2024-06-02"},
            {"id": 5, "total_email_sends": 2, "date": "2024-06-02"},
            {"id": 1, "total_email_sends": 3, "date": "2024-06-03"},
            {"id": 5, "total_email_sends": 3, "date": "2024-06-03"},
        ]
        assert output.most_recent_state.stream_state.__dict__ == {"date": "2024-06-03"}

    def test_given_state_then_days_from_state_minus_lookback_are_read_again_even_beyond_daily_days(
        self, http_mocker: HttpMocker
    ) -> None:
        # With a 1-day lookback campaign 2 (ended 05-18) has no day left.
        self.mock_days(http_mocker, {"2024-06-02": [1, 5], "2024-06-03": [1, 5], "2024-06-04": [1, 5]})
        config = {
            **a_config().with_end_date("2024-06-05T00:00:00Z").build(),
            "campaign_metrics_lookback_days": 1,
            "campaign_metrics_daily_days": 1,
        }
        state = StateBuilder().with_stream_state("campaigns_metrics_daily", {"date": "2024-06-03"}).build()

        output = read_stream("campaigns_metrics_daily", config, SyncMode.incremental, state)

        assert [(record["date"], record["id"]) for record in records_of(output)] == [
            ("2024-06-02", 1),
            ("2024-06-02", 5),
            ("2024-06-03", 1),
            ("2024-06-03", 5),
            ("2024-06-04", 1),
            ("2024-06-04", 5),
        ]
        assert output.most_recent_state.stream_state.__dict__ == {"date": "2024-06-04"}

    def test_given_state_of_today_then_a_second_sync_the_same_day_reads_the_lookback_days_again(
        self, http_mocker: HttpMocker
    ) -> None:
        self.mock_days(http_mocker, {"2024-06-02": [1, 5], "2024-06-03": [1, 5]})
        config = {**a_config().with_end_date("2024-06-04T00:00:00Z").build(), "campaign_metrics_lookback_days": 1}
        state = StateBuilder().with_stream_state("campaigns_metrics_daily", {"date": "2024-06-03"}).build()

        output = read_stream("campaigns_metrics_daily", config, SyncMode.incremental, state)

        assert [(record["date"], record["id"]) for record in records_of(output)] == [
            ("2024-06-02", 1),
            ("2024-06-02", 5),
            ("2024-06-03", 1),
            ("2024-06-03", 5),
        ]
        assert output.most_recent_state.stream_state.__dict__ == {"date": "2024-06-03"}
