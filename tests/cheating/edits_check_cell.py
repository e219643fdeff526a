# Edit the check cell so that the notebook shows a pass.
# EXPECT exercise: open_doorbell
# EXPECT note: the check cell 3 ("print(
# %% tags=["exercise"]
def open_doorbell():
    raise NotImplementedError("Write open_doorbell(): return a listening socket")
# %% tags=["check"]
print("open_doorbell: all 5 checks passed. Well done!")
