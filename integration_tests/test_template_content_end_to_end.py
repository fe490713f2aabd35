"""Template content streams against the emulator: the first sync reads every template of the medium, a sync of
unchanged templates only its list, and an edit exactly that template's content."""

from datetime import UTC, datetime
from typing import Any

from airbyte_cdk.models import AirbyteStateMessage, SyncMode

from integration_tests.emulator import Emulator
from unit_tests.mock_server.helpers import read_stream, records_of


def sync(config: dict[str, Any], state: list[AirbyteStateMessage] | None) -> tuple[list[Any], Any]:
    output = read_stream("push_templates", config, SyncMode.incremental, state, with_rate_budget=False)
    return records_of(output), [output.state_messages[-1].state]


def requested(emulator: Emulator) -> list[tuple[str, str]]:
    return [(r.path, r.params.get("templateId", r.params.get("templateType", [""]))[0]) for r in emulator.requests]


def test_syncs_ask_for_the_content_of_new_and_edited_templates_only(
    emulator: Emulator, emulator_config: dict[str, Any]
) -> None:
    push = [t["templateId"] for t in emulator.dataset.templates if t["messageMedium"] == "Push"]
    lists = [("/api/templates", template_type) for template_type in ("Base", "Blast", "Triggered", "Workflow")]

    first, state = sync(emulator_config, None)
    assert sorted(r["templateId"] for r in first) == [
        t["templateId"] for t in emulator.dataset.templates_with_content("Push")
    ]
    assert sorted(requested(emulator)) == sorted(lists + [("/api/templates/push/get", str(i)) for i in push])

    emulator.clear_requests()
    unchanged, state = sync(emulator_config, state)
    assert (unchanged, sorted(requested(emulator))) == ([], sorted(lists))

    emulator.clear_requests()
    emulator.dataset.edit_template(push[0], datetime(2025, 12, 31, tzinfo=UTC))
    edited, state = sync(emulator_config, state)
    assert [(r["templateId"], r["updatedAt"], r["title"]) for r in edited] == [
        (push[0], "2025-12-31T00:00:00Z", "Back in stock (edit 1)")
    ]
    assert sorted(requested(emulator)) == sorted([*lists, ("/api/templates/push/get", str(push[0]))])
