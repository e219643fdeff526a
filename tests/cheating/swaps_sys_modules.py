# Swap the checks' module for a fake one that has no checks at all.
# EXPECT exercise: open_doorbell
# EXPECT note: sys.modules['tcplessons.exercises.listener']
# %%
import sys
import types

sys.modules["tcplessons.exercises.listener"] = types.ModuleType("tcplessons.exercises.listener")
# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a listening socket")
# %% tags=["check"]
check("open_doorbell", open_doorbell)
