# Hand in the course's own ready-made line splitter as the exercise.
# EXPECT exercise: LineReader
# EXPECT note: defines LineReader as the course's own LineSplitter
# %%
from tcplessons import LineSplitter, check
# %% tags=["exercise"]
LineReader = LineSplitter
# %% tags=["check"]
check("LineReader", LineReader)
