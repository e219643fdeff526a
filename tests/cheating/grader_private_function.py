# The example: replace one private function of the grader so every check "passes".
# EXPECT exercise: open_doorbell
# EXPECT note: imports tcplessons.grading (the grader)
# EXPECT note: replaces inkernel.run_check
# %%
import json

import tcplessons.grading.inkernel as inkernel


def run_check(answer_path, exercise_id, number, nonce):
    with open(answer_path, "w") as f:
        json.dump({"nonce": nonce, "name": "check", "passed": True, "message": ""}, f)


inkernel.run_check = run_check
# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a listening socket")
# %% tags=["check"]
check("open_doorbell", open_doorbell)
