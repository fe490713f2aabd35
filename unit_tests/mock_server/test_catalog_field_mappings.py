"""catalog_field_mappings: GET catalogs/{name}/fieldMappings for every catalog, one row per field and its type.

Iterable's API definition gives the body bare ({definedMappings, undefinedFields}); its docs show the catalog
endpoints wrapped in {msg, code, params}: both are read. A catalog deleted after `catalogs` listed it (404) is skipped.
"""

from airbyte_cdk.models import AirbyteStreamStatus
from airbyte_cdk.test.mock_http import HttpMocker

from unit_tests.mock_server.config import a_config
from unit_tests.mock_server.helpers import read_stream, records_of, warnings_of
from unit_tests.mock_server.request_builder import a_paged_request, a_request
from unit_tests.mock_server.response_builder import error_response, json_response, records_response


def _catalogs(http_mocker: HttpMocker, *names: str) -> None:
    http_mocker.get(
        a_paged_request("catalogs").build(), records_response("catalogNames", [{"name": name} for name in names])
    )


def _by_field(records: list) -> list:
    return sorted(records, key=lambda record: (record["catalogName"], record["fieldName"]))


def test_given_defined_and_undefined_fields_when_read_then_one_row_per_field_with_its_type_or_none(
    http_mocker: HttpMocker,
) -> None:
    _catalogs(http_mocker, "shoes")
    http_mocker.get(
        a_request("catalogs/shoes/fieldMappings").build(),
        json_response(
            {"definedMappings": {"size": "long", "store": "geo_location"}, "undefinedFields": ["color", "launch"]}
        ),
    )

    output = read_stream("catalog_field_mappings", a_config().build())

    assert _by_field(records_of(output)) == [
        {"fieldName": "color", "catalogName": "shoes", "defined": False},
        {"fieldName": "launch", "catalogName": "shoes", "defined": False},
        {"fieldName": "size", "fieldType": "long", "catalogName": "shoes", "defined": True},
        {"fieldName": "store", "fieldType": "geo_location", "catalogName": "shoes", "defined": True},
    ]


def test_given_a_wrapped_body_when_read_then_the_fields_inside_params_are_read(http_mocker: HttpMocker) -> None:
    _catalogs(http_mocker, "shoes")
    http_mocker.get(
        a_request("catalogs/shoes/fieldMappings").build(),
        json_response(
            {
                "msg": "",
                "code": "Success",
                "params": {"definedMappings": {"size": "long"}, "undefinedFields": ["color"]},
            }
        ),
    )

    output = read_stream("catalog_field_mappings", a_config().build())

    assert _by_field(records_of(output)) == [
        {"fieldName": "color", "catalogName": "shoes", "defined": False},
        {"fieldName": "size", "fieldType": "long", "catalogName": "shoes", "defined": True},
    ]


def test_given_a_catalog_deleted_after_listing_when_read_then_it_is_skipped_with_a_warning_and_others_are_read(
    http_mocker: HttpMocker,
) -> None:
    _catalogs(http_mocker, "shoes", "hats")
    http_mocker.get(
        a_request("catalogs/shoes/fieldMappings").build(),
        json_response({"definedMappings": {"size": "long"}, "undefinedFields": []}),
    )
    http_mocker.get(
        a_request("catalogs/hats/fieldMappings").build(), error_response(404, "NotFound", "Catalog hats not found")
    )

    output = read_stream("catalog_field_mappings", a_config().build())

    assert records_of(output) == [{"fieldName": "size", "fieldType": "long", "catalogName": "shoes", "defined": True}]
    assert output.get_stream_statuses("catalog_field_mappings")[-1] == AirbyteStreamStatus.COMPLETE
    assert warnings_of(output) == [
        "Skipping https://api.iterable.com/api/catalogs/hats/fieldMappings in stream catalog_field_mappings: Iterable "
        "no longer has it (NotFound: Catalog hats not found); it was probably deleted during the sync."
    ]


def test_given_a_catalog_name_with_a_space_when_read_then_the_path_is_url_encoded(http_mocker: HttpMocker) -> None:
    _catalogs(http_mocker, "summer shoes")
    http_mocker.get(
        a_request("catalogs/summer%20shoes/fieldMappings").build(),
        json_response({"definedMappings": {}, "undefinedFields": ["size"]}),
    )

    output = read_stream("catalog_field_mappings", a_config().build())

    assert records_of(output) == [{"fieldName": "size", "catalogName": "summer shoes", "defined": False}]
