# Wrap the checks' runner so that every check passes.
# EXPECT exercise: open_doorbell
# EXPECT note: imports tcplessons.exercises (the checks)
# EXPECT note: replaces model.Exercise.run
# %%
from tcplessons.exercises import model

model.Exercise.run = lambda self, obj: model.Report(self.id, [model.Result(c.name, True) for c in self.checks])
# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a listening socket")
# %% tags=["check"]
check("open_doorbell", open_doorbell)
