# Write a forged "passed" answer on every open descriptor, then end the process at once.
# EXPECT exercise: open_doorbell
# EXPECT note: forged the grader's answer
# %% tags=["exercise"]
def open_doorbell():
    import json
    import os

    forged = json.dumps({"nonce": "guessed", "name": "check", "passed": True, "message": ""})
    for fd in range(3, 20):
        try:
            os.write(fd, forged.encode() + b"\n")
        except OSError:
            pass
    os._exit(0)
# %% tags=["check"]
check("open_doorbell", open_doorbell)
