"""Every command the README and the guide show is run somewhere: by a named test or by
`.ci/run`.

The shell blocks and inline commands of ``DOCS`` are extracted; each must match one entry
of ``COVERED`` (which names the tests that run it, checked to exist) or of ``NOT_RUN``
(which says why not). A new command in one of them fails this test until it is covered.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: The documents whose commands a reader runs: the README and the guide it points to.
DOCS = ("README.md", "docs/guide.md")
README = "\n".join((ROOT / doc).read_text(encoding="utf-8") for doc in DOCS)

#: (pattern matching a README command, where it runs: "<test file>::<test>" or ".ci/run").
COVERED: list[tuple[str, list[str]]] = [
    (r"make test|bash scripts/test\.sh", [".ci/run"]),
    (r"make (lint|typecheck)( typecheck)?", [".ci/run"]),
    (
        r"(\w+=\S+ )*make up",
        [
            "tests/test_make_up.py::test_up_twice_reports_what_runs_then_down_stops_it",
            "tests/test_make_up.py::test_a_taken_port_is_named_with_the_variable_to_change",
        ],
    ),
    (
        r"(\w+=\S+ )*make down",
        ["tests/test_make_up.py::test_up_twice_reports_what_runs_then_down_stops_it"],
    ),
    (r"make setup", [".ci/run"]),  # make test runs scripts/setup.sh first
    # scripts/test.sh installs the spark extra, and Java as root when it is missing
    (r"pip install -e '\.\[spark\]'|apt-get install openjdk-17-jre-headless", [".ci/run"]),
    (
        r"make notebook|kedro jupyter (lab|notebook)",
        [
            "tests/test_notebooks.py::test_kedro_jupyter_lab_opens_the_project_notebook",
            "tests/test_notebooks.py::test_there_is_a_notebook_and_make_notebook_opens_it",
        ],
    ),
    (
        r"make viz|kedro viz run",
        ["tests/test_viz.py::test_every_lake_dataset_is_in_its_layer_with_a_preview"],
    ),
    (
        r"make screenshots",
        [
            "tests/ui/test_browser.py::test_click_through_every_tab_with_both_sources",
            "tests/graphql_api/test_graphiql.py::test_graphiql_runs_a_query_with_the_network_blocked",
            "tests/test_viz.py::test_lineage_renders_offline_with_a_screenshot",
            "tests/ui/test_pipeline_tab.py::test_pipeline_tab_in_chromium",
        ],
    ),
    (
        r"make s3|kedro run --env minio --pipelines (generate|bronze,silver,gold)",
        ["tests/test_make_up.py::test_make_s3_gives_a_bucket_the_minio_env_runs_on"],
    ),
    (
        r"make schema",
        ["tests/graphql_api/test_schema_file.py::test_committed_schema_matches_the_code"],
    ),
    (
        r"kedro run --pipelines generate( --params \S+)?",
        [
            "tests/test_cli.py::test_a_normal_run_prints_no_warning",
            "tests/test_session_local.py::test_generate_then_lakehouse_reconciles_dirty_data",
            "tests/test_batches.py::test_generated_batches_build_the_last_row_of_each_key",
        ],
    ),
    (
        r"kedro lake (history|show|restore|rollback|vacuum|compact)( \S+)*",
        [
            "tests/test_lake_cli.py::test_history_show_restore_vacuum",
            "tests/test_lake_restore.py::test_the_restore_example_ends_in_a_lake_kedro_run_builds",
            "tests/test_lake_restore.py::test_kedro_lake_rollback_undoes_the_last_run",
        ],
    ),
    (
        r"kedro lake retract \S+( --undo)?",
        [
            "tests/test_incremental_cases.py::test_retracting_a_batch_builds_the_lake_without_it_and_undo_brings_it_back",
            "tests/test_incremental_cases.py::test_a_batch_refused_by_the_gate_is_retracted_with_the_command_its_message_names",
        ],
    ),
    (
        r"kedro run --pipelines gold --params silver_as_of=\S+",
        ["tests/test_batches.py::test_gold_rebuilt_as_of_a_past_silver_version"],
    ),
    (
        r"kedro run( --pipelines (bronze|silver|gold|export))?",
        [
            "tests/test_cli.py::test_a_normal_run_prints_no_warning",
            "tests/test_session_local.py::test_handmade_lake_builds_expected_gold",
            "tests/test_batches.py::test_a_run_with_nothing_new_says_so_in_one_line_and_changes_nothing",
        ],
    ),
    (
        r"kedro run --pipelines export --params force_export=true",
        ["tests/test_export_when_changed.py::test_kedro_run_exports_only_when_gold_changed"],
    ),
    (
        r"(\w+=\S+ )*kedro run --env spark( --pipelines gold)?",
        [
            "tests/spark/test_spark_gold.py::"
            "test_gold_from_the_spark_environment_equals_gold_from_polars",
            "tests/spark/test_spark_run.py::test_kedro_run_env_spark_builds_the_same_lake_as_polars",
        ],
    ),
    # scripts/setup.sh fetches the Spark connectors with it (.ci/run runs the set-up)
    (r"python -m medallion_kedro\.spark", [".ci/run"]),
    (
        r"kedro run --pipelines gold --params gold_max_change_share=[01]",
        ["tests/test_incremental_gold.py::test_gold_benchmark_runs_end_to_end"],
    ),
    (
        r"kedro run --env fr_layout",
        [
            "tests/test_session_local.py::test_french_layout_builds_the_same_tables",
            "tests/test_readme_french.py::test_readme_french_example_runs_as_written",
        ],
    ),
    (
        r"kedro run --env fr_layout --pipelines generate",
        ["tests/test_readme_french.py::test_readme_french_example_runs_as_written"],
    ),
    (
        r"kedro run --env minio( --pipelines generate && kedro run --env minio)?",
        ["tests/test_session_minio.py::test_minio_env_builds_the_same_gold_as_local"],
    ),
    (
        r"export AWS_ACCESS_KEY_ID=.*",
        [
            "tests/test_session_minio.py::test_minio_env_builds_the_same_gold_as_local",
            "tests/test_make_up.py::test_make_s3_gives_a_bucket_the_minio_env_runs_on",
        ],
    ),
    (r"export KEDRO_DISABLE_TELEMETRY=1|source \.venv/bin/activate", [".ci/run"]),
    (
        r"medallion-mongo start\|stop\|status",
        ["tests/test_mongo_server.py::test_start_status_stop"],
    ),
    (r"medallion-mongo", ["tests/test_mongo_server.py::test_console_script_is_installed"]),
    (
        r"medallion-mongo start|export MONGO_PORT=\d+ MONGO_URI=mongodb://127\.0\.0\.1:\d+",
        ["tests/test_mongo_server.py::test_the_way_out_starts_this_checkouts_own_server"],
    ),
    (
        r"python -m graphql_api\.auth new-key \w+",
        ["tests/graphql_api/test_auth.py::test_the_new_key_command_prints_a_key_and_its_line"],
    ),
    (
        r"python -m ui\.auth hash USER",
        ["tests/ui/test_auth.py::test_the_hash_command_prints_a_users_line"],
    ),
    (
        r"medallion-api|python -m graphql_api",
        ["tests/graphql_api/test_http.py::test_health_reports_mongo"],
    ),
    (r"medallion-ui|python -m ui", ["tests/ui/test_app.py::test_kpis_show_the_gold_row"]),
    (
        r"kedro run --pipelines nosuch",
        ["tests/test_cli.py::test_an_unknown_pipeline_gets_one_line_naming_the_registered_ones"],
    ),
    (
        r"python bench/(pipeline|incremental|export|api_load|api_cost|api_vs_rest"
        r"|api_during_exports|ui_sources|fixed_cost|gold_incremental|spark_profile)\.py.*",
        [
            "tests/test_bench.py::test_fixed_cost_benchmark",
            "tests/test_incremental_gold.py::test_gold_benchmark_runs_end_to_end",
            "tests/spark/test_spark_perf_bench.py::test_spark_profile_benchmark",
            "tests/test_bench.py::test_pipeline_benchmark",
            "tests/test_bench.py::test_incremental_benchmark",
            "tests/test_bench.py::test_export_benchmark",
            "tests/test_bench.py::test_api_load_benchmark",
            "tests/test_bench.py::test_api_cost_benchmark",
            "tests/test_bench.py::test_ui_sources_benchmark",
            "tests/test_bench.py::test_api_vs_rest_benchmark",
            "tests/test_bench.py::test_api_during_exports_benchmark",
        ],
    ),
]
#: Commands the suite does not run, and why (checked: each still appears in the README).
NOT_RUN: dict[str, str] = {
    r"docker compose .*|cp \.env\.example \.env": "needs a Docker engine; "
    "tests/test_compose.py checks the compose file and .env.example instead",
}
COMMAND = re.compile(
    r"^(?:\w+=\S+ )*(?:make|kedro|python|medallion-\w+|docker|bash|source|export|cp)\b"
)


def readme_commands() -> list[str]:
    commands = []
    for block in re.findall(r"```bash\n(.*?)```", README, flags=re.S):
        for line in block.splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                commands.append(line)
    for span in re.findall(r"`([^`\n]+)`", README):
        one_word = " " not in span and not span.startswith("medallion-")
        if COMMAND.match(span) and not one_word and span not in commands:
            commands.append(span)
    return commands


def _exists(where: str) -> bool:
    if where == ".ci/run":
        return "make test" in (ROOT / ".ci/run").read_text()
    path, _, test = where.partition("::")
    return re.search(rf"^\s*def {test}\(", (ROOT / path).read_text(), flags=re.M) is not None


def test_readme_has_commands() -> None:
    commands = readme_commands()
    assert "make up" in commands and "kedro run" in commands, commands


def test_the_readme_first_screen_has_the_two_commands() -> None:
    """A newcomer's first screen: what it is, `make up` and `make test`, and where next."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:45])
    assert "make up" in first_screen and "make test" in first_screen
    assert "docs/guide.md" in readme and len(readme) < 8_000
    for picture in re.findall(r"\]\((docs/[^)]+\.png)\)", readme):
        assert (ROOT / picture).exists(), picture


@pytest.mark.parametrize("command", readme_commands())
def test_every_readme_command_is_run_somewhere(command: str) -> None:
    covering = [places for pattern, places in COVERED if re.fullmatch(pattern, command)]
    excused = [why for pattern, why in NOT_RUN.items() if re.fullmatch(pattern, command)]
    assert covering or excused, f"README command not run by any test nor by .ci/run: {command}"
    for places in covering:
        missing = [where for where in places if not _exists(where)]
        assert not missing, f"{command}: the covering test is gone: {missing}"


def test_ci_runs_lint_and_typecheck() -> None:
    ci = (ROOT / ".ci/run").read_text()
    make_lines = [line.split()[1:] for line in ci.splitlines() if line.startswith("make ")]
    assert {"test", "lint", "typecheck"} <= {target for line in make_lines for target in line}
