"""The on-sale benchmark, small (bench/onsale.py `tiny`): 60 buyers for 20
places through the whole pipeline, with a stack of its own. Asserts what
must hold at any size (nothing oversold, the hall sold, every buyer
answered, nobody overtaken), never speed: speed is `make bench`'s job."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_a_small_onsale_sells_the_hall_exactly_answers_everyone_and_keeps_the_order(tmp_path):
    out, log = tmp_path / "onsale.json", tmp_path / "onsale.log"
    with log.open("w") as output:
        finished = subprocess.run([sys.executable, "-m", "bench.onsale", "tiny", str(out)], cwd=ROOT,
                                  stdout=output, stderr=subprocess.STDOUT, timeout=600)
    assert finished.returncode == 0, log.read_text()[-4000:]
    result = json.loads(out.read_text())["tiny"]
    assert result["oversold"] == 0
    assert result["tickets_sold"] == result["capacity"]
    assert result["buyers_answered"] == result["buyers"], result["unanswered_sample"]
    assert result["fairness_inversions"] == 0, result["fairness_inversion_sample"]
    assert result["other_venues_holds"]["during"] > 0, "the other venues kept selling during the on-sale"
