"""The ledger of held-out reads: checked when read, counted per part, cited in the README."""

import pytest

from anomalylab import reporting
from anomalylab.errors import InputError

HEADER = "date,commit,part,read,later_choice\n"


def test_the_committed_ledger_reads_and_counts():
    ledger = reporting.read_ledger()
    counts = reporting.ledger_counts(ledger)
    assert list(counts.index) == ["nab_eval_half", "mixtiles_test_hours", "kdd_test_rows"]
    assert (counts["reads"] >= counts["before_a_choice"]).all() and (counts["before_a_choice"] >= 1).all()
    assert ledger["date"].is_monotonic_increasing  # entered in the order the reads happened


def test_counts_and_sentence_on_a_small_ledger(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER + "2026-01-02,abc1234,nab_eval_half,first read,a new variant\n"
                    "2026-01-03,abc1235,nab_eval_half,rerun,none\n"
                    "2026-01-04,abc1236,kdd_test_rows,a read,none recorded\n")  # fmt: skip
    ledger = reporting.read_ledger(path)
    counts = reporting.ledger_counts(ledger)
    assert counts.loc["nab_eval_half"].tolist() == [2, 1]
    assert counts.loc["kdd_test_rows"].tolist() == [1, 0] and counts.loc["mixtiles_test_hours"].tolist() == [0, 0]
    sentence = reporting.ledger_sentence(ledger)
    assert "NAB's evaluation half 2 (1); " in sentence and "Mixtiles' test hours 0 (0); " in sentence
    assert sentence.endswith("KDD's test rows 1 (0).")


@pytest.mark.parametrize(("line", "message"), [
    ("2026-01-02,abc1234,nab_test,x,none", "unknown part 'nab_test'"),
    ("02/01/2026,abc1234,nab_eval_half,x,none", "is not YYYY-MM-DD"),
    ("2026-13-40,abc1234,nab_eval_half,x,none", "is not YYYY-MM-DD"),
    ("2026-01-02,HEAD,nab_eval_half,x,none", "is not a git hash"),
    ("2026-01-02,abc1234,nab_eval_half,x,", "must say something"),
])
def test_a_bad_line_is_refused_with_its_line_number(tmp_path, line, message):
    path = tmp_path / "ledger.csv"
    path.write_text(HEADER + line + "\n")
    with pytest.raises(InputError, match=f"line 2: .*{message}"):
        reporting.read_ledger(path)


def test_a_ledger_without_its_columns_or_file_is_refused(tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("when,what\n2026-01-02,x\n")
    with pytest.raises(InputError, match="must have the columns"):
        reporting.read_ledger(path)
    with pytest.raises(InputError, match="does not exist"):
        reporting.read_ledger(tmp_path / "missing.csv")


def test_the_readme_cites_the_ledger_counts():
    from anomalylab import paths

    assert reporting.ledger_sentence(reporting.read_ledger()) in (paths.ROOT / "README.md").read_text()
