"""metrics_csv.read_metrics_csv: a metrics body is the CSV asked for, or BadMetricsBody saying what came back."""

import pytest

from source_iterable.components.metrics_csv import BadMetricsBody, read_metrics_csv


@pytest.mark.parametrize(
    "body, rows, campaign_ids",
    [
        pytest.param(
            b"\xef\xbb\xbfid,Total Email Sends\r\n5,120\r\n",
            [{"id": "5", "Total Email Sends": "120"}],
            ["5"],
            id="bom-and-crlf",
        ),
        pytest.param(
            b'id,Revenue,Label\n7,"1,234.5","a ""quoted"", text"\n',
            [{"id": "7", "Revenue": "1,234.5", "Label": 'a "quoted", text'}],
            ["7"],
            id="quoted-commas",
        ),
        pytest.param(
            b"id,Purchases,Purchases\n8,1,2\n",
            [{"id": "8", "Purchases": "2"}],
            ["8"],
            id="duplicate-header-last-wins",
        ),
        pytest.param(
            b"id,Total Email Sends\n" + b"9" * 19 + b"," + b"1" * 40 + b"\n",
            [{"id": "9" * 19, "Total Email Sends": "1" * 40}],
            ["9" * 19],
            id="huge-numbers",
        ),
        pytest.param(
            b"id,Sends\n\n5,1\n \n6\n", [{"id": "5", "Sends": "1"}, {"id": "6"}], ["5", "6"], id="blank-and-short"
        ),
        pytest.param(b"id,Sends\n5,1,x,\n", [{"id": "5", "Sends": "1", None: ["x", ""]}], ["5"], id="extra-cells"),
        pytest.param(b"id,Sends\n", [], [], id="header-only"),
    ],
)
def test_given_a_csv_body_then_rows_as_csv_dict_reader_gives_them_and_the_campaign_of_each(
    body: bytes, rows: list[dict[str | None, object]], campaign_ids: list[str]
) -> None:
    table = read_metrics_csv(body, "text/csv", ["id"])

    assert (table.rows, table.campaign_ids) == (rows, campaign_ids)


def test_given_key_columns_spelled_otherwise_then_they_are_found_without_case_or_separators() -> None:
    table = read_metrics_csv(
        b"Campaign Id,experiment_id,TEMPLATEID\n1,2,3\n", "text/csv", ["campaignId", "experimentId", "templateId"]
    )

    assert table.campaign_ids == ["1"]


@pytest.mark.parametrize(
    "body, what",
    [
        pytest.param(b"", "an empty body", id="empty"),
        pytest.param(b'""\n', "a body without a header row: '\"\"'", id="no-header"),
        pytest.param(
            b"<html>\n<body>x</body>\n",
            "a body whose first line has no 'id' column (text/html): '<html> <body>x</body>'",
            id="html",
        ),
        pytest.param(
            b"id,Sends\n-5,1\n", "a row (line 2) whose id is '-5', not a whole number: '-5,1'", id="negative-id"
        ),
        pytest.param(b"id,Sends\n,1\n", "a row (line 2) whose id is '', not a whole number: ',1'", id="empty-id"),
        pytest.param(
            b'id,Sends\n5,"' + b"x" * 200_000 + b'"\n',
            "a body that is not CSV (field larger than field limit (131072), line 2): 'id,Sends 5,\"" + "x" * 88 + "…'",
            id="cell-over-the-csv-limit",
        ),
    ],
)
def test_given_a_body_that_is_not_the_csv_then_bad_metrics_body_says_what_came_back(body: bytes, what: str) -> None:
    with pytest.raises(BadMetricsBody) as raised:
        read_metrics_csv(body, "text/html", ["id"])

    assert str(raised.value) == what
