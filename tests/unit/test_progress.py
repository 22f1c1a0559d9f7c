"""The one progress reporter (movierec.progress) and the places that report through it."""

import re

from movierec.ingest.common import Progress as IngestProgress
from movierec.models.knn import ItemKNN
from movierec.models.mf import BiasedMF
from movierec.models.topn import EASE, ImplicitALS
from movierec.progress import Progress
from tests.unit.test_models_ranking import random_ratings

LINE = re.compile(r"^\[(\S+) +\d+\.\ds\] (.*)$")


def lines(err: str) -> list[tuple[str, str]]:
    """(label, message) of every line; every line must have the reporter's form."""
    out = []
    for line in err.splitlines():
        match = LINE.match(line)
        assert match, f"not a progress line: {line!r}"
        out.append(match.groups())
    return out


def test_counts_rates_extra_counts_and_the_throttle(capsys):
    log = Progress("job", 1_000, "rows", every=3600.0)
    log.update(10)  # not forced, not done, the last line is recent: quiet
    log.update(500, stage="load", force=True, counts={"records": 2_000})
    log.step(1_000)  # reaching the total always prints
    log.done()  # just printed: nothing more
    (label, first), (_, last) = lines(capsys.readouterr().err)
    assert label == "job"
    assert re.fullmatch(r"load: 500/1,000 rows \(50%, [\d,.]+M? rows/s\), 2,000 records \([\d,.]+M? records/s\)", first)
    assert last.startswith("1,000/1,000 rows (100%, ")


def test_scaled_units_the_callback_form_and_a_disabled_reporter(capsys):
    Progress("bytes", 3_000_000, "MB", scale=1e6).update(3_000_000)
    Progress("fit")("epoch   1  train RMSE 0.9000")  # any report's text, e.g. an EpochLog
    Progress("off", 10, enabled=False).update(10, force=True)
    assert [m for _, m in lines(capsys.readouterr().err)][0].startswith("3/3 MB (100%, ")
    assert lines(capsys.readouterr().err) == []


def test_ingestion_reports_megabytes_and_records_and_is_quiet_for_small_inputs(capsys):
    small = IngestProgress(1_000)
    small.advance(1_000, 10)
    small.close()
    assert capsys.readouterr().err == ""
    big = IngestProgress(100 << 20, interval=3600.0)
    big.advance(50 << 20, 400)
    big.advance(50 << 20, 600)
    big.close()
    assert (big.total_bytes, big.done_bytes, big.records) == (100 << 20, 100 << 20, 1_000)
    ((label, message),) = lines(capsys.readouterr().err)  # throttled: only the final line
    assert label == "ingest" and message.startswith("105/105 MB (100%, ") and ", 1,000 records (" in message


def test_fits_report_through_it_when_verbose(capsys):
    train = random_ratings(40, 30)
    BiasedMF(n_factors=2, epochs=2, verbose=True).fit(train)
    ImplicitALS(n_factors=2, iterations=2, verbose=True).fit(train)
    EASE(verbose=True).fit(train)
    ItemKNN(verbose=True).fit(train)
    got = lines(capsys.readouterr().err)
    assert [m.split("  train")[0] for label, m in got if label == "biased_mf"] == ["epoch   1", "epoch   2"]
    assert [m.split(" (")[0] for label, m in got if label == "ials"] == [
        "exact solves: 1/2 iterations",
        "exact solves: 2/2 iterations",
    ]
    assert any(label == "ease" and m.startswith("30 movies: Gram ") for label, m in got)
    assert ("similarity", "30/30 columns") in [(label, m.split(" (")[0]) for label, m in got]
    BiasedMF(n_factors=2, epochs=1).fit(train)  # not verbose: silent
    assert capsys.readouterr().err == ""
