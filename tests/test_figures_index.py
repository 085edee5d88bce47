"""figures/README.md maps every file in figures/ to the notebook that writes it; keep it true."""

import re

import nbformat

from anomalylab import paths

FIGURE = re.compile(r'save_figure\(fig, "(\d\d_[a-z0-9_]+)"')
TABLE = re.compile(r'write_table\([a-z_0-9]+, "(\d\d_[a-z0-9_]+)"|\("(\d\d_[a-z0-9_]+)", [a-z_0-9]+\)')
TABLE_FILES = ("csv", "md", "provenance.json")


def written_by_notebooks() -> dict[str, str]:
    """File (relative to figures/) -> notebook, from the save_figure / write_table calls in the notebooks."""
    out = {}
    for path in sorted(paths.NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb")):
        source = "\n".join(c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code")
        for name in FIGURE.findall(source):
            out[f"{name}.png"] = f"notebooks/{path.name}"
        for pair in TABLE.findall(source):
            for ext in TABLE_FILES:
                out[f"tables/{pair[0] or pair[1]}.{ext}"] = f"notebooks/{path.name}"
    return out


def indexed() -> dict[str, str]:
    """File -> notebook, from the rows of figures/README.md (``{a,b}`` expanded; git-ignored patterns skipped)."""
    out = {}
    for line in (paths.FIGURES_DIR / "README.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 2 or not cells[0].startswith("`") or "<" in cells[0]:
            continue
        pattern, notebook = cells[0].strip("`"), cells[1].strip("`")
        match = re.fullmatch(r"(.*)\{(.*)\}", pattern)
        for name in [match[1] + ext for ext in match[2].split(",")] if match else [pattern]:
            out[name] = notebook
    return out


def test_figures_readme_names_exactly_what_the_notebooks_write():
    written, listed = written_by_notebooks(), indexed()
    assert written, "no save_figure/write_table calls found in the notebooks"
    missing = sorted(set(written) - set(listed))
    extra = sorted(set(listed) - set(written))
    assert not missing, f"written by a notebook but not in figures/README.md: {missing}"
    assert not extra, f"in figures/README.md but written by no notebook: {extra}"
    wrong = {f: (listed[f], written[f]) for f in written if listed[f] != written[f]}
    assert not wrong, f"figures/README.md names the wrong notebook (listed, actual): {wrong}"


def test_every_committed_output_is_indexed_and_every_indexed_file_exists():
    listed = indexed()
    on_disk = {p.relative_to(paths.FIGURES_DIR).as_posix() for p in paths.FIGURES_DIR.glob("*.png")}
    on_disk |= {p.relative_to(paths.FIGURES_DIR).as_posix() for p in (paths.FIGURES_DIR / "tables").glob("*.*")}
    orphans, missing = sorted(on_disk - set(listed)), sorted(set(listed) - on_disk)
    assert not orphans, f"files in figures/ that figures/README.md does not list: {orphans}"
    assert not missing, f"listed in figures/README.md but missing from figures/: {missing}"
