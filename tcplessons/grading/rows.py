"""From what a worker learnt (:class:`WorkerState`) to the row the reports print."""

from __future__ import annotations

from .lessons import counted_exercises, is_elsewhere, lesson_number
from .results import CheckResult, ExerciseInfo, ExerciseResult, Submission, WorkerState

__all__ = ["NOT_ATTEMPTED", "build_submission"]

NOT_ATTEMPTED = "not attempted"


def _explain_missing(exercise_id: str, state: WorkerState) -> str:
    """Why an exercise the source defines was not defined in the kernel, if we know."""
    for index in reversed((state.definitions or {}).get(exercise_id) or []):
        label = state.labels.get(index, f"cell {index + 1}")
        if state.skipped.get(index):
            return (
                f"{NOT_ATTEMPTED}: {label}, where {exercise_id} is defined, {state.skipped[index]}"
            )
        if index in state.errors:
            return f"{NOT_ATTEMPTED}: {label}, where {exercise_id} is defined, raised {state.errors[index]}"
    return NOT_ATTEMPTED


def _every(names: list[str], message: str) -> list[CheckResult]:
    return [CheckResult(name, False, message) for name in names]


def _exercise(ex: ExerciseInfo, state: WorkerState, stop: str) -> ExerciseResult:
    defined, definitions = state.defined, state.definitions or {}
    if is_elsewhere(ex.lesson, state.lessons) and (
        (defined is not None and ex.id in defined) or (defined is None and definitions.get(ex.id))
    ):
        message = f"defined, but lesson {lesson_number(ex.lesson)}'s exercise: not graded in this notebook"
        return ExerciseResult(ex.id, False, _every(ex.checks, message))
    if ex.id in state.tampered_exercises:
        message = f"TAMPERED, not checked: {state.tampered_exercises[ex.id]}"
        return ExerciseResult(
            ex.id, True, _every(state.check_names.get(ex.id) or ex.checks, message)
        )
    if ex.id in state.results or (defined is not None and ex.id in defined):
        names = state.check_names.get(ex.id) or ex.checks
        checks = list(state.results.get(ex.id, []))
        checks += _every(names[len(checks) :], f"not checked: {stop or 'grading stopped'}")
        return ExerciseResult(ex.id, True, checks)
    if defined is None and stop and definitions.get(ex.id):
        # Grading stopped before it could look; the source defines it, so count it.
        return ExerciseResult(ex.id, True, _every(ex.checks, f"not checked: {stop}"))
    if state.error:
        message = f"{NOT_ATTEMPTED}: {state.error}"
    elif defined is None and stop and state.definitions is None:
        message = f"not checked: {stop}"  # it never got as far as reading the notebook
    elif defined is None and stop:
        message = NOT_ATTEMPTED
    else:
        message = _explain_missing(ex.id, state)
    return ExerciseResult(ex.id, False, _every(ex.checks, message))


def _definition_notes(state: WorkerState, graded: list[str]) -> list[str]:
    """A note for each graded exercise defined in several cells, or again after its check."""
    notes = []

    def label(index: int) -> str:
        return state.labels.get(index, f"cell {index + 1}")

    for exercise_id in graded:
        cells = sorted((state.definitions or {}).get(exercise_id) or [])
        checked = sorted(state.check_cells.get(exercise_id) or [])
        later = [i for i in cells if checked and i > checked[0]]
        if later:
            notes.append(
                f"{exercise_id} is defined again in {label(later[-1])}, after its check in"
                f" {label(checked[0])}: that later definition is the one graded (the last"
                " definition wins, as in the kernel)"
            )
        elif len(cells) > 1:
            notes.append(
                f"{exercise_id} is defined in {len(cells)} cells ({', '.join(label(i) for i in cells)}):"
                f" the last one, {label(cells[-1])}, is the one graded"
            )
    return notes


def build_submission(
    notebook: str,
    catalogue: list[ExerciseInfo],
    state: WorkerState,
    stop: str = "",
    fault: str = "",
    sandbox: str = "off",
) -> Submission:
    """The row for ``notebook``; ``stop`` says why grading ended early, ``fault`` why the
    grader itself failed on it."""
    stop = stop or state.stopped
    exercises = [_exercise(ex, state, stop) for ex in catalogue]
    notes = list(state.notes)
    notes += _definition_notes(state, [e.id for e in exercises if e.attempted])
    notes += [f"TAMPERED: {text}" for text in state.tampering]
    if state.error:
        notes.append(f"NOT GRADED: {state.error}")
    if stop and stop not in " ".join(notes):
        notes.append(stop)
    lessons = state.lessons
    if lessons is None:  # no check or exercise cells: the lessons of what it defines
        attempted = {e.id for e in exercises if e.attempted}
        lessons = sorted({ex.lesson for ex in catalogue if ex.id in attempted})
    return Submission(
        notebook=notebook,
        exercises=exercises,
        notes=notes,
        fault=fault,
        lessons=list(lessons),
        counted=counted_exercises(lessons, {ex.id: ex.lesson for ex in catalogue}),
        unreadable=bool(state.error),
        tampered=bool(state.tampering),
        sandbox=sandbox,
    )
