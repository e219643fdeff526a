"""Every lesson, run top to bottom with the reference solutions typed into its exercise
cells, shows every check passing — what a learner who solved it all would see."""

import pytest
from course import NOTEBOOK_DIR, NOTEBOOKS, exercise_cells, read, solution_source
from nbclient import NotebookClient

WITH_EXERCISES = [p for p in NOTEBOOKS if exercise_cells(read(p))]


def output_text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(parts)


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=[p.stem for p in WITH_EXERCISES])
def test_lesson_with_reference_solutions_passes_its_checks(path):
    nb = read(path)
    for _, cell, names in exercise_cells(nb):
        cell.source = "\n\n".join(solution_source(name) for name in names)
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOK_DIR)}}
    ).execute()
    check_cells = [c for c in nb.cells if "check" in c.metadata.get("tags", [])]
    assert check_cells, f"{path.name} has exercises but no cell tagged 'check'"
    for cell in check_cells:
        text = output_text(cell)
        assert "checks passed. Well done!" in text, f"{cell.source!r} showed:\n{text}"
