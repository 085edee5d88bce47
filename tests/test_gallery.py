"""docs/gallery.py in its quick form: every case of the gallery runs as a user would run it (a fresh process per
command) and shows what the issue asked of the command line: the trend warned about and gone once differenced,
and the injected spikes returned as intervals by --top and --contamination."""

import re
import subprocess
import sys

from anomalylab import paths


def test_the_gallery_runs_every_case_in_quick_form(tmp_path):
    done = subprocess.run([sys.executable, str(paths.ROOT / "docs" / "gallery.py"), "--quick", "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=900)  # fmt: skip
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "gallery.md").read_text()
    sections = re.split(r"^## ", text, flags=re.M)[1:]
    assert len(sections) == 7
    co2, differenced = sections[0], sections[1]
    assert "left the calibration range" in co2 and "59 row(s) had a missing value" in co2
    assert "--difference" in differenced and "left the calibration range" not in differenced
    for spikes in sections[5:]:
        assert "**50 of the 50 intervals have their peak on an injected spike**" in spikes
    for image in re.findall(r"\]\((gallery/[^)]+\.png)\)", text):
        assert (tmp_path / image).read_bytes()[:4] == b"\x89PNG"
