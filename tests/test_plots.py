"""python -m scorefast demo --plot PATH: the variance plot (matplotlib optional)."""
import subprocess
import sys

import numpy as np
import pytest

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_plot_variance_writes_png_of_measured_and_closed_forms(tmp_path):
    pytest.importorskip("matplotlib")
    from scorefast.plots import plot_variance

    path = tmp_path / "variance.png"
    data = plot_variance(path, repeats=4000, points=5, seed=1)
    assert path.read_bytes()[:8] == PNG_MAGIC
    np.testing.assert_allclose(data["d"], np.linspace(-3, 3, 5))
    for name in ("score function, no baseline", "score function, leave-one-out mean",
                 "pathwise"):
        s = data[name]
        # exact closed forms: measured variances within sampling error (~ a few %)
        np.testing.assert_allclose(s["variance"], s["closed_form"], rtol=0.15)
    # score function without baseline grows as d^4, pathwise does not depend on d
    none = data["score function, no baseline"]["closed_form"]
    assert none[0] > 10 * none[2]
    path_cf = data["pathwise"]["closed_form"]
    np.testing.assert_allclose(path_cf, path_cf[0])


def test_demo_cli_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from scorefast.__main__ import main

    path = tmp_path / "demo.png"
    assert main(["demo", "--quiet", "--plot", str(path)]) == 0
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_clear_message_without_matplotlib(tmp_path):
    code = ("import sys; sys.modules['matplotlib'] = None\n"
            "from scorefast.plots import write_variance_plot\n"
            f"sys.exit(write_variance_plot({str(tmp_path / 'x.png')!r}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "needs matplotlib" in proc.stderr
    assert not (tmp_path / "x.png").exists()
