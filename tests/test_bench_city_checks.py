"""The city benchmark reports a failed asset check: `rgw run` exits 0 with one (a check advises), so the benchmark
reads the run's summary rather than trusting the exit status."""

from benchmarks.bench_city import checks_of


def test_the_benchmark_names_the_failed_checks_of_the_summary(tmp_path):
    log = tmp_path / "full.log"
    log.write_text(
        "12 of 145 FAILED not_null_x ... [FAIL]\n"  # dbt's own lines before the summary are not checks
        "asset checks: 130 passed, 1 failed\n"
        "  FAILED warehouse/woning_indicatoren indicator_recall_and_precision\n"
        "  addresses: lowest precision 1.0\n"
    )
    assert checks_of(log) == {
        "checks_passed": 130,
        "checks_failed": 1,
        "failed_checks": ["warehouse/woning_indicatoren indicator_recall_and_precision"],
    }


def test_a_log_without_a_summary_reports_no_checks(tmp_path):
    log = tmp_path / "full.log"
    log.write_text("rgw: the run failed\n")
    assert checks_of(log) == {}
