# Read the private checks' code to learn what they want.
# EXPECT exercise: open_doorbell
# EXPECT note: imports inspect (reads the checks' code and frames)
# %%
import inspect

import tcplessons

secrets = inspect.getsource(tcplessons.exercises.listener)
# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a listening socket")
# %% tags=["check"]
check("open_doorbell", open_doorbell)
