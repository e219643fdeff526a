"""The command line's help texts (``python -m tcplessons grade --help``)."""

GRADE_HELP = """\
Run each notebook top to bottom in a fresh kernel (as Run All would, going on past cells
that raise), then check the exercises of its own lessons (see "What counts" below) with
the course's checks (plus yours with --checks), in a clean process that runs only the
notebook's definitions of them.  Exercises it does not define are reported as
not attempted.  Each notebook runs in a temporary copy
of its folder, in a process of its own: an endless loop, a blocked accept(), sys.exit()
or os._exit() costs that notebook the marks it affects, never the run.

A cell or a single check that runs longer than --cell-timeout is interrupted; one that
ignores the interrupt or kills the kernel is skipped and the kernel is rebuilt.  The
whole notebook (cells and checks) gets --timeout seconds, then its process is killed.
Cells that only call check("name", name) are skipped: the grader runs those checks.

What counts: a notebook's own lessons.  Those are the lessons of the exercises its
check cells name (check("recv_message", recv_message)), or, without check cells, of the
exercises its cells tagged "exercise" define.  Every exercise of those lessons is graded
and counted in the notebook's total, attempted or not; another lesson's exercise that it
happens to define (a helper recv_exactly in lesson 04) is reported as "defined, but
lesson 02's exercise: not graded in this notebook".  A notebook with neither (tags and
check cells removed) is graded on every exercise it defines.  If an exercise's name is
not defined but its check cell passes another name (check("open_doorbell",
open_door_bell)), that object is graded, with a note.

The table and the CSV have a column for each exercise of the notebooks' lessons or
attempted (every exercise with --all-exercises); a blank cell is not one of that
notebook's lessons.  The CSV's last columns are total, out_of and notes (what happened
while running).  Folders are searched with their subfolders (one per learner is fine);
a notebook named twice is graded once.  A notebook that cannot be read is a row marked
NOT GRADED.

Sandbox: on Linux each notebook runs inside bubblewrap (bwrap): a read-only file
system where only its own copy is writable, the instructor's files and the other
submissions hidden, no network but loopback, nothing left running afterwards.
--sandbox=auto (the default) says once on stderr when bwrap cannot be used and grades
without it; --sandbox=require refuses; --sandbox=off never uses it.

Tampering: the checks run in a clean process that never ran the notebook's top-level
code; a notebook that patches tcplessons or the standard library, edits a check cell,
installs hooks, reads the checks' code or answers with the course's own helper is
marked TAMPERED, and the notes say what it touched.  See the README's threat model.

Shards: --shard K/N grades the K-th of N slices of the notebooks found (in a fixed
order) and prints its JSON part (or writes it with --output); join the parts with
"python -m tcplessons gradebook merge PART.json... --csv grades.csv".

Exit status: 0 when grading completed, whatever the scores (unreadable notebooks
included: their rows say NOT GRADED); 2 for bad arguments; 1 if the grader itself failed
on a notebook (its row says why) or the gradebook could not be written (the report is
printed first); 130 (143 for SIGTERM, 129 for SIGHUP) if stopped: the notebooks being
graded are stopped and the temporary files removed.
"""

GRADE_EXAMPLES = """\
examples:
  python -m tcplessons grade submissions/                      # a table of scores
  python -m tcplessons grade submissions/ --csv grades.csv --jobs 4
  python -m tcplessons grade alice.ipynb --json > alice.json
  python -m tcplessons grade submissions/ --checks private_checks/
  python -m tcplessons grade submissions/ --shard 3/8 --output part3.json

--json prints {"submissions": [{"notebook", "exercises": [{"id", "attempted", "passed",
"score", "max_score", "checks": [{"name", "passed", "message"}]}], "notes", "fault",
"lessons", "unreadable", "tampered", "sandbox"}]}; the score is the number of checks
passed, max_score the number of checks; notes (a list) say what happened while running
the notebook, fault is null unless the grader itself failed on it, lessons are those its
total counts, tampered is true if it tried to change how it is graded (the notes say
how), sandbox is "bwrap" or "off".
"""

MERGE_HELP = """\
Join the JSON parts written by "grade --shard K/N" (one per shard, any order) into one
gradebook: the same CSV a single run over all the notebooks would write.  Each of the N
shards must be given exactly once.
"""
